package osprey4j.data.world;

import java.util.List;

/**
 * One named part of an object (PACO style: the annotation category is {@code object:part}). A part may be
 * several shapes (all four legs of a table are one {@code table:leg}); shapes painted later lie on top.
 */
record Part(String name, List<Shape> shapes, Paint paint) {
    Part {
        shapes = List.copyOf(shapes);
    }
}
