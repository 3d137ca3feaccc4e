package osprey4j.data.world;

/** Surface patterns; the word is the {@code pattern_marking} attribute and the caption adjective. */
enum Pattern {
    PLAIN("plain"),
    STRIPED("striped"),
    DOTTED("dotted");

    final String word;

    Pattern(String word) {
        this.word = word;
    }
}
