package osprey4j.data.world;

import java.util.ArrayList;
import java.util.List;

/**
 * The attribute vocabulary written to {@code parts.json} (PACO's top-level {@code attributes}): colours
 * ({@code color}), patterns ({@code pattern_marking}), sizes ({@code size}) and shading ({@code shading}).
 * Ids are 1-based positions in {@link #ALL}, fixed by this list's order.
 */
final class Attributes {
    record Attribute(int id, String name, String type) {
    }

    static final List<Attribute> ALL = build();

    private static final int PATTERN_BASE = Colour.values().length;
    private static final int SIZE_BASE = PATTERN_BASE + Pattern.values().length;
    private static final int SHADING_BASE = SIZE_BASE + WorldObject.Size.values().length;

    private Attributes() {
    }

    private static List<Attribute> build() {
        List<Attribute> all = new ArrayList<>();
        for (Colour c : Colour.values()) {
            all.add(new Attribute(all.size() + 1, c.word, "color"));
        }
        for (Pattern p : Pattern.values()) {
            all.add(new Attribute(all.size() + 1, p.word, "pattern_marking"));
        }
        for (WorldObject.Size s : WorldObject.Size.values()) {
            all.add(new Attribute(all.size() + 1, s.word, "size"));
        }
        all.add(new Attribute(all.size() + 1, "shaded", "shading"));
        all.add(new Attribute(all.size() + 1, "flat", "shading"));
        return List.copyOf(all);
    }

    static int colour(Colour c) {
        return c.ordinal() + 1;
    }

    static int pattern(Pattern p) {
        return PATTERN_BASE + p.ordinal() + 1;
    }

    static int size(WorldObject.Size s) {
        return SIZE_BASE + s.ordinal() + 1;
    }

    static int shading(boolean shaded) {
        return SHADING_BASE + (shaded ? 1 : 2);
    }
}
