package com.wolkvoxchatstream.interop;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.apicurio.registry.resolver.config.SchemaResolverConfig;
import io.apicurio.registry.rest.client.models.ProblemDetails;
import io.apicurio.registry.serde.Default4ByteIdHandler;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.config.IdOption;
import io.apicurio.registry.serde.config.SerdeConfig;
import io.apicurio.registry.serde.kafka.config.KafkaSerdeConfig;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a topic our producers write in registry mode (Confluent wire format: byte 0x00, a 4-byte
 * big-endian schema id, the Avro binary body) the way a Java subscriber would: a real consumer
 * group (subscribe, not assign) with Apicurio Registry's {@link AvroKafkaDeserializer}, which
 * fetches the writer schema by its id from the registry's native API. Prints one JSON line per
 * record to stdout:
 *
 * <pre>{"partition":0,"offset":0,"key":"…","event_id":"…","conn_id":"…","server":"…",
 * "message":"…","sent_at":1739145600000,"revision":"…"}</pre>
 *
 * (pure ASCII: everything else is a JSON escape), and a summary to stderr.
 *
 * <p>Usage: {@code RegistryConsumer <bootstrap servers> <topic> <registry url> <group id> <count>
 * <timeout ms>}, where the registry URL is Apicurio's native v3 API ({@code
 * http://host:port/apis/registry/v3}), not the Confluent-compatible one. The 4-byte id is read as
 * the registry's content id (see {@code USE_ID} below; {@code -Dwolkvox.useId=globalId} reads it as
 * a global id instead, only to show that the choice matters).
 *
 * <p>Exit status: 0 once {@code count} records were printed (every record of the poll that reached
 * the count is printed, so more than {@code count} lines means more records than expected); 1 on
 * timeout; 2 when a record cannot be deserialized (or any other error); 64 on bad arguments.
 */
public final class RegistryConsumer {
  private static final int TIMED_OUT = 1;
  private static final int FAILED = 2;
  private static final int USAGE = 64;

  private RegistryConsumer() {}

  public static void main(String[] args) {
    // Before any logger exists: warnings and errors only, on stderr (slf4j-simple's default).
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    int status;
    try {
      status = run(args);
    } catch (Throwable error) {
      System.err.println("RegistryConsumer failed: " + describe(error));
      error.printStackTrace(System.err);
      status = FAILED;
    }
    System.err.flush();
    // The registry client's Vert.x threads would keep the JVM alive: exit explicitly.
    System.exit(status);
  }

  private static int run(String[] args) throws IOException {
    if (args.length != 6) {
      System.err.println(
          "usage: RegistryConsumer <bootstrap servers> <topic> <registry url (native v3 API:"
              + " http://host:port/apis/registry/v3)> <group id> <count> <timeout ms>");
      return USAGE;
    }
    String bootstrap = args[0];
    String topic = args[1];
    String registryUrl = args[2];
    String groupId = args[3];
    long count;
    long timeoutMs;
    try {
      count = Long.parseLong(args[4]);
      timeoutMs = Long.parseLong(args[5]);
    } catch (NumberFormatException error) {
      System.err.println("count and timeout ms must be integers: " + error.getMessage());
      return USAGE;
    }
    if (count < 0 || timeoutMs <= 0) {
      System.err.println("count must be >= 0 and timeout ms > 0");
      return USAGE;
    }

    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "registry-java-interop");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    // Offsets are committed (synchronously) after each batch is printed.
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, AvroKafkaDeserializer.class.getName());
    props.put(SchemaResolverConfig.REGISTRY_URL, registryUrl);
    // The schema id is in the payload (Confluent wire format), never in record headers.
    props.put(KafkaSerdeConfig.ENABLE_HEADERS, "false");
    // 0x00 + 4-byte id: Default4ByteIdHandler (also the serde's default in 3.x; said explicitly).
    props.put(SerdeConfig.ID_HANDLER, Default4ByteIdHandler.class.getName());
    // Which id those 4 bytes are. Our producers write the id that Apicurio's Confluent-compatible
    // API (/apis/ccompat/v7) answers when they register the schema (POST /subjects/<s>/versions),
    // and with Apicurio Registry 3.3.3 (apicurio.ccompat.legacy-id-mode.enabled false, its
    // default) that is the CONTENT id, not the global id: checked against a real 3.3.3 whose two
    // id sequences had been pulled apart (a draft version's content updated a few times), where the
    // ccompat answer was the version's contentId (6; its globalId was 2). The Apicurio 3 serde
    // reads 4-byte ids as content ids by default; said explicitly here because globalId would
    // also work on a fresh registry, where both sequences usually advance in step, and then fail
    // (schema not found, or another schema) once they drift apart: in that check, globalId mode
    // failed on the first record with HTTP 404 "No version with global ID '6' found".
    // -Dwolkvox.useId=globalId overrides it, only to show that the choice matters.
    props.put(SerdeConfig.USE_ID, System.getProperty("wolkvox.useId", IdOption.contentId.name()));

    long startedAt = System.nanoTime();
    long deadline = startedAt + timeoutMs * 1_000_000L;
    long printed = 0;
    ObjectMapper json =
        JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
    OutputStream out = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);

    try (KafkaConsumer<String, GenericRecord> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(topic));
      while (printed < count) {
        long leftMs = (deadline - System.nanoTime()) / 1_000_000L;
        if (leftMs <= 0) {
          out.flush();
          System.err.printf(
              "RegistryConsumer timed out after %d ms: %d of %d records from %s (group %s)%n",
              timeoutMs, printed, count, topic, groupId);
          consumer.close(Duration.ofSeconds(5));
          return TIMED_OUT;
        }
        ConsumerRecords<String, GenericRecord> records;
        try {
          records = consumer.poll(Duration.ofMillis(Math.min(leftMs, 500)));
        } catch (RecordDeserializationException error) {
          out.flush();
          System.err.printf(
              "RegistryConsumer could not deserialize the record at %s offset %d (%s side): %s%n",
              error.topicPartition(), error.offset(), error.origin(), describe(error));
          error.printStackTrace(System.err);
          consumer.close(Duration.ofSeconds(5));
          return FAILED;
        }
        for (ConsumerRecord<String, GenericRecord> record : records) {
          out.write(json.writeValueAsBytes(line(json, record)));
          out.write('\n');
          printed++;
        }
        out.flush();
        if (!records.isEmpty()) consumer.commitSync();
      }
    }
    out.flush();
    System.err.printf(
        "RegistryConsumer read %d records from %s (group %s) in %d ms%n",
        printed, topic, groupId, (System.nanoTime() - startedAt) / 1_000_000L);
    return 0;
  }

  private static ObjectNode line(ObjectMapper json, ConsumerRecord<String, GenericRecord> record) {
    ObjectNode node = json.createObjectNode();
    node.put("partition", record.partition());
    node.put("offset", record.offset());
    node.put("key", record.key());
    GenericRecord value = record.value();
    if (value == null) {
      node.putNull("event_id");
      return node;
    }
    node.put("event_id", text(value, "event_id"));
    node.put("conn_id", text(value, "conn_id"));
    node.put("server", text(value, "server"));
    node.put("message", text(value, "message"));
    Object sentAt = value.get("sent_at");
    if (sentAt instanceof Instant) {
      node.put("sent_at", ((Instant) sentAt).toEpochMilli());
    } else if (sentAt instanceof Long) {
      node.put("sent_at", (Long) sentAt);
    } else {
      throw new IllegalStateException("sent_at is not a timestamp-millis: " + sentAt);
    }
    // A v1 writer has no revision: absent from its writer schema, so null here.
    node.put("revision", value.hasField("revision") ? text(value, "revision") : null);
    return node;
  }

  /** A string field (Avro's Utf8 or String), or null. */
  private static String text(GenericRecord value, String field) {
    Object found = value.get(field);
    return found == null ? null : found.toString();
  }

  private static String describe(Throwable error) {
    StringBuilder text = new StringBuilder();
    for (Throwable e = error; e != null; e = e.getCause()) {
      if (text.length() > 0) text.append(" <- caused by ");
      text.append(e.getClass().getName()).append(": ").append(e.getMessage());
      if (e instanceof ProblemDetails) {
        // The registry's answer (its message is null), e.g. 404 "No content with ID '999' was found."
        ProblemDetails problem = (ProblemDetails) e;
        text.append(" (registry answered HTTP ")
            .append(problem.getStatus())
            .append(' ')
            .append(problem.getTitle())
            .append(": ")
            .append(problem.getDetail())
            .append(')');
      }
      if (e.getCause() == e) break;
    }
    return text.toString();
  }
}
