package com.wolkvoxchatstream.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * Reads a job (JSON) and answers with what Apache Avro for Java computes, so the TypeScript test
 * can compare: fingerprints and canonical forms of schemas, single-object decoding (with schema
 * resolution), encoding from Avro JSON, and wall-clock times read in a zone by java.time.
 *
 * <p>Usage: {@code AvroInterop <job.json> <answer.json>}. Every failure of one item is reported
 * in its answer ("error"), never hidden; a broken job fails the whole program.
 */
public final class AvroInterop {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();

  /**
   * Avro does not order map entries, and Java's default HashMap would reorder them on decoding;
   * keeping the wire order lets the test compare re-encoded bytes exactly.
   */
  private static final GenericData MODEL =
      new GenericData() {
        @Override
        public DatumReader<?> createDatumReader(Schema writer, Schema reader) {
          return new OrderedReader(writer, reader, this);
        }
      };

  private static final class OrderedReader extends GenericDatumReader<Object> {
    OrderedReader(Schema writer, Schema reader, GenericData model) {
      super(writer, reader, model);
    }

    @Override
    protected Object newMap(Object old, int size) {
      return new LinkedHashMap<>(size);
    }
  }

  public static void main(String[] args) throws Exception {
    JsonNode job = JSON.readTree(Files.readString(Path.of(args[0])));
    ObjectNode answer = JSON.createObjectNode();

    // Each schema gets its own parser: two versions of one record share a full name.
    Map<String, Schema> schemas = new HashMap<>();
    ObjectNode schemaAnswers = answer.putObject("schemas");
    job.get("schemas").fields().forEachRemaining(entry -> {
      Schema schema = new Schema.Parser().parse(entry.getValue().asText());
      schemas.put(entry.getKey(), schema);
      ObjectNode out = schemaAnswers.putObject(entry.getKey());
      out.put("canonical", SchemaNormalization.toParsingForm(schema));
      out.put("fingerprint", Long.toString(SchemaNormalization.parsingFingerprint64(schema)));
    });

    ArrayNode vectors = answer.putArray("vectors");
    for (JsonNode text : job.get("vectors")) {
      ObjectNode out = vectors.addObject();
      try {
        // Avro's own vectors include a boolean field whose default is the string "true".
        Schema schema = new Schema.Parser().setValidateDefaults(false).parse(text.asText());
        out.put("canonical", SchemaNormalization.toParsingForm(schema));
        out.put("fingerprint", Long.toString(SchemaNormalization.parsingFingerprint64(schema)));
      } catch (Exception e) {
        out.put("error", e.toString());
      }
    }

    ArrayNode decoded = answer.putArray("decoded");
    for (JsonNode item : job.get("decode")) {
      ObjectNode out = decoded.addObject();
      try {
        Schema reader = schemas.get(item.get("reader").asText());
        BinaryMessageDecoder<GenericRecord> decoder =
            new BinaryMessageDecoder<>(MODEL, reader);
        for (JsonNode writer : item.get("writers")) decoder.addSchema(schemas.get(writer.asText()));
        GenericRecord record = decoder.decode(HEX.parseHex(item.get("hex").asText()));
        out.put("json", toAvroJson(reader, record));
        ByteBuffer again = new BinaryMessageEncoder<GenericRecord>(MODEL, reader).encode(record);
        byte[] bytes = new byte[again.remaining()];
        again.get(bytes);
        out.put("hex", HEX.formatHex(bytes));
      } catch (Exception e) {
        out.put("error", e.toString());
      }
    }

    ArrayNode encoded = answer.putArray("encoded");
    for (JsonNode item : job.get("encode")) {
      ObjectNode out = encoded.addObject();
      try {
        Schema schema = schemas.get(item.get("schema").asText());
        GenericRecord record = (GenericRecord) new OrderedReader(schema, schema, MODEL)
            .read(null, DecoderFactory.get().jsonDecoder(schema, item.get("json").asText()));
        ByteBuffer bytes = new BinaryMessageEncoder<GenericRecord>(MODEL, schema).encode(record);
        byte[] array = new byte[bytes.remaining()];
        bytes.get(array);
        out.put("hex", HEX.formatHex(array));
      } catch (Exception e) {
        out.put("error", e.toString());
      }
    }

    ArrayNode zones = answer.putArray("zones");
    for (JsonNode item : job.get("zones")) {
      LocalDateTime local = LocalDateTime.parse(item.get("local").asText().replace(' ', 'T'));
      zones.add(local.atZone(ZoneId.of(item.get("zone").asText())).toInstant().toEpochMilli());
    }

    Files.writeString(Path.of(args[1]), JSON.writeValueAsString(answer), StandardCharsets.UTF_8);
  }

  private static String toAvroJson(Schema schema, GenericRecord record) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    JsonEncoder encoder = EncoderFactory.get().jsonEncoder(schema, out);
    new GenericDatumWriter<GenericRecord>(schema, MODEL).write(record, encoder);
    encoder.flush();
    return out.toString(StandardCharsets.UTF_8);
  }
}
