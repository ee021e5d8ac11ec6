/**
 * The Spanish contact-center lexicon: written for this package (README: Lexicon), not derived
 * from any published word list. Terms are written as people type them, accents included; the
 * compiler folds them (`pésimo` and `PESIMO` are one entry). In each group, terms are separated
 * by `|`; a term is a word, a phrase (words separated by spaces, matched inside one clause), and
 * any of its words may end in `*` to match every word starting with it (`pésim*`).
 */

/** Sentiment terms by weight, −3 (worst) … +3 (best). */
export const sentimentTerms: readonly (readonly [weight: number, terms: string])[] = [
  // insults, fraud, legal threats, rage
  [
    -3,
    'pésim* | pecim* | malísim* | horribl* | orribl* | orible | terribl* | nefast* | ' +
      'desastr* | estaf* | ladrón | ladrones | ladrona | ladronas | ratero* | rateros | ' +
      'incompetent* | porquería | basura | mierda | asco | asqueros* | malparid* | ' +
      'hijueputa* | hijueputas | hp | hpta | gonorrea | carechimba | sinvergüenza* | ' +
      'furios* | odio | los odio | el peor | la peor | lo peor | una vergüenza | ' +
      'qué vergüenza | falta de respeto | tomadura de pelo | es el colmo | ' +
      'el colmo | de lo peor | nunca más | me robaron | nos robaron | malnacid* | ' +
      'idiota* | imbécil* | estúpid* | pendej*',
  ],
  [
    -2.5,
    'inaceptabl* | inútil | inútiles | abus* | robo | roban | robando | ' +
      'burla | una burla | se burlan | decepcionad* | decepcionant* | desepcion* | ' +
      'decepción | indignad* | indignant* | rabia | qué rabia | ' +
      'enojad* | emputad* | berrinche | frustrad* | frustrant* | frustración | ' +
      'mamado | mamada | me tienen mamado | hart* | jarto | jarta | jartera | ' +
      'desesperad* | desesperant* | lamentabl* | grosero* | grosera* | maleducad* | ' +
      'irrespetuos* | vergonzos* | descarad* | engaño | engañad* | engañan | ' +
      'mentiros* | mentira | mentiras | fraude | demanda | demandar | los voy a demandar | ' +
      'tutela | superintendencia | inservibl* | insatisf* | no recomiendo | no lo recomiendo | ' +
      'qué asco',
  ],
  [
    -2,
    'gracias por nada | mal | malo | mala | malos | malas | fatal | deficient* | mediocr* | injust* | ' +
      'ineficient* | molest* | fastidi* | cansad* | aburrid* | mamera | qué pereza | ' +
      'triste | tristeza | dolid* | estresad* | preocupante | queja | quejas | ' +
      'quejarme | reclamo | reclamos | denuncia | denunciar | siempre lo mismo | ' +
      'lo mismo de siempre | da piedra | me da piedra | piedro | robaron | ' +
      'caro | caros | costos* | muy alta | muy alto | tan alta | tan alto | cobro indebido | doble cobro | cobran de más | ' +
      'cobraron de más | cobrando de más | me cobraron doble | ' +
      'sin servicio | sin internet | sin señal | sin luz | sin respuesta | ' +
      'me colgaron | colgaron | desconectaron | me cortaron | cortaron | días esperando | ' +
      '' +
      'semanas esperando | semana esperando | meses esperando | mes esperando | ' +
      'horas esperando | hora esperando | sigo esperando | llevo esperando | ' +
      'no es lo que | no era lo que | peor',
  ],
  [
    -1.5,
    'cuarta vez | tercera vez | lent* | lentitud | demor* | caíd* | cayó | se cae | se cayó | ' +
      'falla | fallas | fallando | falló | error | errores | problema | problemas | ' +
      'inconveniente | inconvenientes | dañad* | daño | ' +
      'desconfianza | paila | pailas | a cada rato | cada rato | lastima | ' +
      'desafortunadamente | por desgracia | pereza | ' +
      'preocupad* | me preocupa | no reconozco',
  ],
  [
    -1,
    'lamentablemente | ni modo | me tocó esperar | tocó esperar | toca esperar | qué pena pero | complicado | complicada | difícil | ' +
      'otra vez | de nuevo | nuevamente | urgente | urge',
  ],
  [
    1,
    'rápida | rapidez | rápidas | rápidos | rápido | mejor | gracias | grasias | graciass | grax | graxias | gratitud | bien | bn | vien | ' +
      'sin problema | sin problemas | no hay problema | ningún problema | ' +
      'sin inconveniente | sin inconvenientes | funcionando | jaja* | jeje* | xd | ' +
      'paciencia | con gusto | bendiciones | ya quedó',
  ],
  [
    1.5,
    'amabl* | amabilidad | amables | amable | bacan* | cheveres | chévere | perfecto | perfecta | perfect | buen | bueno | buena | buenos | ' +
      'ágil | ' +
      'agilidad | oportuno | oportuna | útil | útiles | ideal | ' +
      'top | atento | atentos | atenta | atentas | solucionada | ' +
      'solucionó | resuelto | resuelta | resolvió | ' +
      'arreglaron | arreglado | arreglada | agradezco | agradecemos | agradecer | ' +
      'respetuos* | profesional | profesionales | profesionalismo | me gusta | me gustó | ' +
      'gusta | gustó | feliz tarde | feliz día | ' +
      'feliz noche | feliz fin de semana | dios le pague | dios les pague | dios me lo bendiga | ' +
      'dios la bendiga | dios lo bendiga | dios los bendiga',
  ],
  [
    2,
    '' +
      'contento | contenta | contentos | contentas | satisfecho | satisfecha | satisfechos | ' +
      'satisfactori* | agradecido | agradecida | agradecidos | eficient* | eficaz | ' +
      'recomiendo | recomendad* | recomendable | chimba | una chimba | qué chimba | ' +
      'mil gracias | alegr* | buenísim* | lo mejor | los mejores | la mejor | ' +
      'el mejor | las mejores | placer | un placer | encantad* | me encanta | me encantó | ' +
      'encanta | encantó | qué buena atención',
  ],
  [
    2.5,
    'genial* | felicit* | fascin* | estupend* | impecabl* | feliz | felices | infinitas gracias | ' +
      'lo máximo | son lo máximo | de maravilla | de lujo | excelentemente',
  ],
  [
    3,
    'excelent* | exelent* | ecelent* | exclent* | maravill* | espectacular* | fenomenal* | ' +
      'magnífic* | increíblemente bien',
  ],
]

/**
 * Words whose weight changes under negation in a way a flip cannot say: `funciona` is mildly
 * good, `no funciona` is a real complaint; `contestan` is nothing, `no contestan` is bad.
 * [term, weight, weight when negated].
 */
export const negationSensitiveTerms: readonly (readonly [string, number, number])[] = [
  ['funciona', 1, -2],
  ['funcionan', 1, -2],
  ['funcionó', 1, -2],
  ['sirve', 0.5, -2],
  ['sirven', 0.5, -2],
  ['sirvió', 1, -2],
  ['me sirvió', 1.5, -2],
  ['solucionan', 0.5, -2],
  ['solucione', 0, -2],
  ['solucionen', 0, -2],
  ['soluciona', 0.5, -2],
  ['solucionado', 1.5, -2],
  ['solucionaron', 1.5, -2],
  ['resuelven', 0.5, -2],
  ['resolvieron', 1.5, -2],
  ['arreglan', 0.5, -2],
  ['solución', 0, -2],
  ['contestan', 0, -1.5],
  ['contesta', 0, -1.5],
  ['contestó', 0, -1.5],
  ['contestaron', 0, -1.5],
  ['responden', 0, -1.5],
  ['responde', 0, -1.5],
  ['respondieron', 0, -1.5],
  ['atienden', 0, -1.5],
  ['atendieron', 0, -1.5],
  ['llamaron', 0, -1.5],
  ['llamado', 0, -1],
  ['ayudan', 0, -1.5],
  ['ayuda', 0, -1.5],
  ['ayudaron', 1.5, -2],
  ['ayudó', 1.5, -2],
  ['explica', 0, -1.5],
  ['explican', 0, -1.5],
  ['explicaron', 0.5, -1.5],
  ['devolvieron', 0.5, -2],
  ['devuelven', 0, -2],
  ['llega', 0, -1.5],
  ['llegó', 0.5, -1.5],
  ['llegado', 0, -1.5],
  ['llegan', 0, -1.5],
  ['pude', 0.5, -1],
  ['puedo', 0, -1],
  ['justo', 0.5, -2],
  ['razón', 0, -1.5],
]

/**
 * Phrases and words that look like sentiment but are not, in a contact center: they are
 * matched first and contribute 0 (they show in `matches` with weight 0, so a reader sees why).
 */
export const neutralTerms =
  'buenas | buenas tardes | buenas noches | buenos días | buen día | ' +
  'buenas días | muy buenas | muy buenos días | muy buenas tardes | que tenga buen día | ' +
  'que tenga un buen día | que tenga buena tarde | que tenga una buena tarde | ' +
  'paz y salvo | paz y salvos | espero | espero su respuesta | espero respuesta | ' +
  'espero su pronta respuesta | pronta respuesta | quedo atento | quedo atenta | quedamos atentos | ' +
  'quedo pendiente | estaré atento | estaré atenta | atento a | atenta a | ' +
  'cancel* la factura | cancel* el recibo | cancel* la cuota | cancel* el saldo | ' +
  'cancel* la deuda | cancel* el valor | cancel* lo que debo | cancel* en efectivo | ' +
  'por favor | porfavor | porfa | favor | de nada | por nada | nada más | ' +
  'no gracias | qué pena | qué pena con usted | pena con usted | ' +
  'disculp* la molestia | disculp* las molestias | perdon* la molestia | pena la molestia | ' +
  'molestarlo | molestarla | molestarle | no se preocupe | bueno pues | bueno entonces | ' +
  'bueno ya | bueno listo | claro | de acuerdo | mucho gusto | lo más rápido posible | ' +
  'lo antes posible | tan pronto | sin costo | sin compromiso | ' +
  'buena tarde | buena noche | si bien | más o menos bien'

/** Mild acknowledgements: `bien` in these is weaker than `bien` alone. [term, weight] */
export const mildTerms: readonly (readonly [string, number])[] = [
  ['está bien', 0.5],
  ['ok bien', 0.5],
  ['okey bien', 0.5],
  ['bueno bien', 0.5],
  ['bien sea', 0],
  ['todo bien', 1.5],
]

/**
 * Negators: the sentiment words after one, up to the end of its clause, are flipped or damped
 * (README: Negation).
 */
export const negatorTerms =
  'no | nunca | nunk | tampoco | ni | ni siquiera | sin | jamás | nada | nadie | ningún | ' +
  'ninguna | ninguno | poco | para nada | ya no | aún no | todavía no'

/** Intensifiers and diminishers: [term, factor, weight when it modifies nothing ("¡súper!")]. */
export const intensifierTerms: readonly (readonly [string, number, number])[] = [
  ['muy', 1.4, 0],
  ['mui', 1.4, 0],
  ['muy muy', 2, 0],
  ['muy pero muy', 2, 0],
  ['súper', 1.5, 1.5],
  ['demasiado', 1.5, 0],
  ['demasiada', 1.5, 0],
  ['tan', 1.3, 0],
  ['tanto', 1.3, 0],
  ['bastante', 1.3, 0],
  ['re', 1.5, 0],
  ['full', 1.5, 0],
  ['mucho', 1.3, 0],
  ['mucha', 1.3, 0],
  ['muchos', 1.3, 0],
  ['muchas', 1.3, 0],
  ['muchísimo', 1.8, 0],
  ['muchísimas', 1.8, 0],
  ['muchísimos', 1.8, 0],
  ['extremadamente', 2, 0],
  ['sumamente', 1.8, 0],
  ['totalmente', 1.5, 0],
  ['completamente', 1.5, 0],
  ['absolutamente', 1.5, 0],
  ['realmente', 1.3, 0],
  ['verdaderamente', 1.3, 0],
  ['increíblemente', 1.5, 0],
  ['todo', 1.2, 0],
  ['total', 1.3, 0],
  // diminishers
  ['un poco', 0.5, 0],
  ['un poquito', 0.5, 0],
  ['algo', 0.6, 0],
  ['medio', 0.6, 0],
  ['ligeramente', 0.6, 0],
]

/**
 * Conjunctions that end a clause (and so the reach of a negation). `but` ones also shift the
 * weight to what follows: before ×0.5, after ×1.5 (README: Clauses).
 */
export const clauseTerms: readonly (readonly [string, 'but' | 'plain'])[] = [
  ['pero', 'but'],
  ['sin embargo', 'but'],
  ['no obstante', 'but'],
  ['aunque', 'plain'],
  ['sino', 'plain'],
  ['porque', 'plain'],
  ['xq', 'plain'],
  ['pq', 'plain'],
  ['ya que', 'plain'],
]

/** Words that are a discourse marker, weight 0, when alone in their clause ("Bueno, …"). */
export const discourseTerms = 'bueno'

/** Emoji by code point (the first of a sequence; skin tones and variation selectors ignored). */
export const emojiWeights: readonly (readonly [string, number])[] = [
  ['🤬', -3],
  ['🖕', -3],
  ['😡', -2.5],
  ['🤮', -2.5],
  ['😠', -2],
  ['👎', -2],
  ['💩', -2],
  ['😭', -2],
  ['💔', -2],
  ['🤢', -2],
  ['😤', -1.5],
  ['😢', -1.5],
  ['😞', -1.5],
  ['🙄', -1.5],
  ['😩', -1.5],
  ['😫', -1.5],
  ['😖', -1.5],
  ['🤦', -1.5],
  ['☹', -1.5],
  ['😒', -1],
  ['😔', -1],
  ['😣', -1],
  ['😟', -1],
  ['🙁', -1],
  ['😕', -1],
  ['😓', -1],
  ['😰', -1],
  ['😱', -1],
  ['😪', -1],
  ['❌', -1],
  ['😑', -0.5],
  ['😬', -0.5],
  ['🥺', -0.5],
  ['😴', -0.5],
  ['🙏', 1],
  ['😅', 0.5],
  ['😂', 1],
  ['🤣', 1],
  ['🙂', 1],
  ['😉', 1],
  ['✔', 1],
  ['✅', 1],
  ['⭐', 1],
  ['✨', 1],
  ['💪', 1],
  ['😎', 1],
  ['👍', 1.5],
  ['👌', 1.5],
  ['😆', 1.5],
  ['🌟', 1.5],
  ['😇', 1.5],
  ['😊', 1.5],
  ['😀', 1.5],
  ['😃', 1.5],
  ['😄', 1.5],
  ['😁', 1.5],
  ['☺', 2],
  ['👏', 2],
  ['🙌', 2],
  ['🤗', 2],
  ['😘', 2],
  ['🎉', 2],
  ['🥳', 2],
  ['💙', 2],
  ['💚', 2],
  ['💛', 2],
  ['💜', 2],
  ['🧡', 2],
  ['♥', 2],
  ['❤', 2.5],
  ['💕', 2.5],
  ['💖', 2.5],
  ['😍', 2.5],
  ['🥰', 2.5],
  ['🤩', 2.5],
]

/** ASCII emoticons. A letter-final one (`:D`) must not be followed by a letter or digit. */
export const emoticonWeights: readonly (readonly [string, number])[] = [
  [":'(", -2],
  [':-(', -1.5],
  [':(', -1.5],
  ['=(', -1.5],
  [':c', -1.5],
  [':C', -1.5],
  [':/', -1],
  [':-/', -1],
  [':|', -0.5],
  [':-)', 1],
  [':)', 1],
  ['=)', 1],
  [';)', 1],
  [';-)', 1],
  [':p', 1],
  [':P', 1],
  [':3', 1],
  [':D', 2],
  [':-D', 2],
  ['=D', 2],
  ['<3', 2.5],
]
