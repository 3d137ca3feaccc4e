package osprey4j.data.datasets;

/** One entry of PACO's top-level {@code attributes} array, e.g. {@code (3, "red", "color")}. */
public record CocoAttribute(long id, String name, String type) implements java.io.Serializable {
}
