package osprey4j.data.instruct;

/** A PACO-style attribute other than colour: {@code ("wood", "material")}, {@code ("striped", "pattern_marking")}. */
public record Attribute(String name, String type) {
    public boolean isMaterial() {
        return type != null && type.startsWith("material");
    }

    /** A size word ({@code small}, {@code medium}, {@code large}) given by the annotations (the synthetic world's). */
    public boolean isSize() {
        return "size".equals(type);
    }
}
