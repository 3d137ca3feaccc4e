package osprey4j.data.world;

/** The named colours objects are painted in; the name is the {@code color} attribute and the caption word. */
enum Colour {
    RED("red", 0xC8322D),
    ORANGE("orange", 0xE8822A),
    YELLOW("yellow", 0xEED23C),
    GREEN("green", 0x3C9A3C),
    DARK_GREEN("dark green", 0x24602A),
    BLUE("blue", 0x2F5FC8),
    LIGHT_BLUE("light blue", 0xA8D4F0),
    PURPLE("purple", 0x7D3CA8),
    PINK("pink", 0xEE8CB4),
    BROWN("brown", 0x7A4A26),
    BLACK("black", 0x222222),
    WHITE("white", 0xF2F2EE),
    GRAY("gray", 0x8A8A8A),
    BEIGE("beige", 0xD9C49A);

    final String word;
    final int rgb;

    Colour(String word, int rgb) {
        this.word = word;
        this.rgb = rgb;
    }

    /** The colour with each channel moved by up to {@code amount}, so no two objects look identical. */
    int jittered(java.util.SplittableRandom rng, int amount) {
        int r = Math.clamp(((rgb >> 16) & 0xFF) + rng.nextInt(-amount, amount + 1), 0, 255);
        int g = Math.clamp(((rgb >> 8) & 0xFF) + rng.nextInt(-amount, amount + 1), 0, 255);
        int b = Math.clamp((rgb & 0xFF) + rng.nextInt(-amount, amount + 1), 0, 255);
        return r << 16 | g << 8 | b;
    }
}
