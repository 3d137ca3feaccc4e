package osprey4j.data.instruct;

import osprey4j.core.prompt.RegionPrompt;
import osprey4j.data.datasets.Turn;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static osprey4j.data.instruct.Phrases.a;
import static osprey4j.data.instruct.Phrases.capitalise;
import static osprey4j.data.instruct.Phrases.list;
import static osprey4j.data.instruct.Phrases.pick;

/**
 * Writes the five subsets from measured facts, without a language model. Every sentence states only what the
 * annotations show (category, colour, attributes, parts, position, size, nearest object and where it lies); the
 * wording is drawn from several phrasings per fact with the caller's seeded random source, so the same seed gives
 * the same text. Regions are written {@code <regionN>}, as in the official files.
 */
final class TemplateText {
    private final NegativeMiner negatives;

    TemplateText(NegativeMiner negatives) {
        this.negatives = negatives;
    }

    static String region(int i) {
        return RegionPrompt.reference(i + 1);
    }

    /** {@code "red mug"}, {@code "mug"}: the category with its colour when known. */
    private static String coloured(SceneObject o) {
        return o.colour() == null ? o.category() : o.colour() + " " + o.category();
    }

    /** The neighbour with its article; {@code "another mug"} when it is of the object's own category. */
    private static String neighbour(SceneObject o, SceneObject near, boolean withColour) {
        String name = withColour ? coloured(near) : near.category();
        return near.category().equals(o.category()) ? "another " + name : a(name);
    }

    // ---- detailed descriptions ------------------------------------------------------------------------------

    InstructRecord detailed(Scene s, List<SceneObject> objects, SplittableRandom rng) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < objects.size(); i++) {
            lines.add(region(i) + ": " + describe(objects.get(i), s.objects(), rng));
        }
        return InstructRecord.described(s, objects.stream().map(InstructRecord.SceneRegion::of).toList(), lines);
    }

    /** A few sentences about one object, never naming the region itself. */
    String describe(SceneObject o, List<SceneObject> all, SplittableRandom rng) {
        List<String> sentences = new ArrayList<>();
        String size = Layout.size(o);
        String thing = (size.equals("medium-sized") ? "" : size + " ") + coloured(o);
        String where = Layout.positionPhrase(o);
        sentences.add(switch (rng.nextInt(4)) {
            case 0 -> capitalise(a(thing)) + " can be seen " + where + ".";
            case 1 -> "This is " + a(thing) + ", located " + where + ".";
            case 2 -> capitalise(where) + " there is " + a(thing) + ".";
            default -> capitalise(a(thing)) + " appears " + where + ".";
        });
        List<String> materials = o.attributes().stream().filter(Attribute::isMaterial).map(Attribute::name).toList();
        // Size is stated once, through Layout.size, which reads the size attribute when there is one.
        List<String> looks = o.attributes().stream().filter(x -> !x.isMaterial() && !x.isSize())
                .map(Attribute::name).toList();
        if (!materials.isEmpty()) {
            sentences.add(pick(rng, "It is made of ", "Its material is ", "It looks to be made of ")
                    + list(materials) + ".");
        }
        if (!looks.isEmpty()) {
            sentences.add(pick(rng, "Its surface looks ", "It appears ", "It can be described as ") + list(looks)
                    + ".");
        }
        if (!o.parts().isEmpty()) {
            List<String> names = o.parts().stream().map(p -> "the " + p.name()).distinct().toList();
            sentences.add(switch (rng.nextInt(3)) {
                case 0 -> "Its visible parts include " + list(names) + ".";
                case 1 -> "One can make out " + list(names.stream().map(n -> "its " + n.substring(4)).toList()) + ".";
                default -> "The " + o.category() + "'s " + list(names.stream().map(n -> n.substring(4)).toList())
                        + (names.size() == 1 ? " is" : " are") + " visible.";
            });
            for (Part p : o.parts()) {
                if (p.colour() != null) {
                    sentences.add(pick(rng, "The " + p.name() + " is " + p.colour() + ".",
                            "Its " + p.name() + " is " + p.colour() + " in colour."));
                    break;   // one part colour keeps descriptions readable
                }
            }
        }
        SceneObject near = Layout.nearest(o, all);
        if (near == null) {
            sentences.add(pick(rng, "No other object is annotated in the picture.",
                    "It is the only annotated object in the scene."));
        } else {
            String rel = Layout.relation(o, near);
            sentences.add(pick(rng,
                    "It is " + rel + " " + neighbour(o, near, true) + ".",
                    "The closest object to it is " + neighbour(o, near, false) + ", and the " + o.category() + " is "
                            + rel + " it.",
                    "Nearby, " + neighbour(o, near, false) + " lies " + inverse(rel) + " it."));
        }
        return String.join(" ", sentences);
    }

    /** Where the reference lies relative to the object, given where the object lies relative to it. */
    static String inverse(String relation) {
        return switch (relation) {
            case "to the left of" -> "to the right of";
            case "to the right of" -> "to the left of";
            case "above" -> "below";
            case "below" -> "above";
            default -> relation;
        };
    }

    // ---- conversations --------------------------------------------------------------------------------------

    InstructRecord conversation(Scene s, List<SceneObject> objects, SplittableRandom rng) {
        List<Turn> turns = new ArrayList<>();
        for (int i = 0; i < objects.size(); i++) {
            SceneObject o = objects.get(i);
            String r = region(i);
            turns.add(Turn.human(pick(rng, "What can you tell me about " + r + "?",
                    "Could you describe the object in " + r + "?", "What is shown in " + r + "?",
                    "What do you see in " + r + "?")));
            turns.add(Turn.gpt(pick(rng, r + " shows ", "In " + r + " there is ", r + " contains ")
                    + a(coloured(o)) + " " + Layout.positionPhrase(o) + ". " + partsSentence(o, rng)
                    + sizeSentence(o, rng)));
            // One follow-up per region, chosen among the facts this object has.
            List<Turn[]> followUps = new ArrayList<>();
            if (o.colour() != null) {
                followUps.add(new Turn[]{Turn.human(pick(rng, "What colour is the " + o.category() + " in " + r + "?",
                        "Which colour does the " + o.category() + " in " + r + " have?")),
                        Turn.gpt(pick(rng, "It is " + o.colour() + ".",
                                "The " + o.category() + " in " + r + " is " + o.colour() + "."))});
            }
            SceneObject near = Layout.nearest(o, s.objects());
            if (near != null) {
                followUps.add(new Turn[]{Turn.human(pick(rng, "What is closest to the " + o.category() + " in " + r
                        + "?", "Which object is nearest to " + r + "?")),
                        Turn.gpt("The nearest object is " + neighbour(o, near, false) + ", which lies "
                                + inverse(Layout.relation(o, near)) + " it.")});
            }
            if (!o.parts().isEmpty()) {
                Part p = o.parts().get(rng.nextInt(o.parts().size()));
                followUps.add(new Turn[]{Turn.human("Does the " + o.category() + " in " + r + " have "
                        + Phrases.a(p.name()) + "?"), Turn.gpt("Yes, its " + p.name() + " can be seen"
                        + (p.colour() == null ? "." : ", and it is " + p.colour() + "."))});
            }
            if (!followUps.isEmpty() && rng.nextInt(3) > 0) {
                Turn[] f = followUps.get(rng.nextInt(followUps.size()));
                turns.add(f[0]);
                turns.add(f[1]);
            }
        }
        if (objects.size() >= 2) {
            int i = rng.nextInt(objects.size());
            int j = (i + 1 + rng.nextInt(objects.size() - 1)) % objects.size();
            SceneObject oi = objects.get(i);
            SceneObject oj = objects.get(j);
            turns.add(Turn.human(pick(rng, "Where is " + region(i) + " relative to " + region(j) + "?",
                    "How are " + region(i) + " and " + region(j) + " placed with respect to each other?")));
            turns.add(Turn.gpt("The " + oi.category() + " in " + region(i) + " is " + Layout.relation(oi, oj)
                    + " the " + oj.category() + " in " + region(j) + ". The " + oi.category() + " is "
                    + Layout.positionPhrase(oi) + ", while the " + oj.category() + " is " + Layout.positionPhrase(oj)
                    + "."));
        } else if (!s.objects().isEmpty()) {
            SceneObject o = objects.getFirst();
            SceneObject near = Layout.nearest(o, s.objects());
            if (near != null) {
                turns.add(Turn.human("What is the nearest object to " + region(0) + "?"));
                turns.add(Turn.gpt("The nearest object is " + neighbour(o, near, false) + ", and the "
                        + o.category() + " is " + Layout.relation(o, near) + " it."));
            }
        }
        return InstructRecord.conversation(s, objects.stream().map(InstructRecord.SceneRegion::of).toList(), turns);
    }

    private static String partsSentence(SceneObject o, SplittableRandom rng) {
        if (o.parts().isEmpty()) {
            return "";
        }
        List<String> names = o.parts().stream().map(Part::name).distinct().toList();
        return pick(rng, "Its " + list(names) + (names.size() == 1 ? " is" : " are") + " visible. ",
                "You can see its " + list(names) + ". ");
    }

    private static String sizeSentence(SceneObject o, SplittableRandom rng) {
        return switch (Layout.size(o)) {
            case "small" -> pick(rng, "It takes up only a small part of the picture.", "It is fairly small.");
            case "large" -> pick(rng, "It fills a large part of the picture.", "It is one of the large objects.");
            default -> pick(rng, "It is of moderate size.", "It covers a moderate part of the picture.");
        };
    }

    // ---- part-level QA --------------------------------------------------------------------------------------

    /** Object first ({@code <region1>}), then its parts; {@code null} for an object without parts. */
    InstructRecord partLevel(Scene s, SceneObject o, SplittableRandom rng) {
        if (o.parts().isEmpty()) {
            return null;
        }
        List<InstructRecord.SceneRegion> regions = new ArrayList<>();
        regions.add(InstructRecord.SceneRegion.of(o));
        List<Turn> turns = new ArrayList<>();
        turns.add(Turn.human(pick(rng, "What object is " + region(0) + "?", "What is " + region(0) + "?",
                "Name the object in " + region(0) + ".")));
        turns.add(Turn.gpt(o.category()));
        for (int k = 0; k < o.parts().size(); k++) {
            Part p = o.parts().get(k);
            String r = region(k + 1);
            regions.add(InstructRecord.SceneRegion.of(p));
            turns.add(Turn.human(pick(rng, "Which part of the " + o.category() + " is " + r + "?",
                    "What part of " + region(0) + " does " + r + " show?", "What is " + r + " of the "
                            + o.category() + "?")));
            turns.add(Turn.gpt(p.name()));
            if (p.colour() != null) {
                turns.add(Turn.human("What colour is the " + p.name() + " in " + r + "?"));
                turns.add(Turn.gpt(p.colour()));
            }
            for (Attribute at : p.attributes()) {
                if (at.isMaterial()) {
                    turns.add(Turn.human(pick(rng, "What is the " + p.name() + " in " + r + " made of?",
                            "What material is the " + p.name() + " in " + r + "?")));
                    turns.add(Turn.gpt(at.name()));
                    break;
                }
            }
        }
        return InstructRecord.conversation(s, regions, turns);
    }

    // ---- LVIS-style positive/negative yes-no ----------------------------------------------------------------

    /** One yes/no question per region, each region asked once; about half the questions are negatives. */
    InstructRecord positiveNegative(Scene s, List<SceneObject> objects, SplittableRandom rng) {
        List<Turn> turns = new ArrayList<>();
        for (int i = 0; i < objects.size(); i++) {
            SceneObject o = objects.get(i);
            boolean positive = rng.nextBoolean();
            String asked = o.category();
            if (!positive) {
                String neg = negatives.negativeFor(o.category(), rng);
                if (neg == null) {
                    positive = true;   // a one-category world has no negative to ask about
                } else {
                    asked = neg;
                }
            }
            String r = region(i);
            turns.add(Turn.human(pick(rng, "Is " + r + " " + a(asked) + "?", "Does " + r + " show " + a(asked) + "?",
                    "Is there " + a(asked) + " in " + r + "?", "Can you see " + a(asked) + " in " + r + "?")));
            turns.add(Turn.gpt(positive ? "Yes" : "No"));
        }
        return InstructRecord.conversation(s, objects.stream().map(InstructRecord.SceneRegion::of).toList(), turns);
    }

    // ---- short-form answers ---------------------------------------------------------------------------------

    InstructRecord shortForm(Scene s, List<SceneObject> objects, SplittableRandom rng) {
        List<Turn> turns = new ArrayList<>();
        for (int i = 0; i < objects.size(); i++) {
            SceneObject o = objects.get(i);
            String r = region(i);
            List<String[]> qa = new ArrayList<>();
            qa.add(new String[]{pick(rng, "What is the object in " + r + "?", "What category is " + r + "?",
                    "What is " + r + "?"), o.category()});
            if (o.colour() != null) {
                qa.add(new String[]{pick(rng, "What colour is " + r + "?", "What is the colour of the " + o.category()
                        + " in " + r + "?"), o.colour()});
            }
            qa.add(new String[]{pick(rng, "Where in the image is " + r + "?", "In which part of the picture is "
                    + r + "?"), Layout.position(o)});
            SceneObject near = Layout.nearest(o, s.objects());
            if (near != null) {
                qa.add(new String[]{pick(rng, "What object is closest to " + r + "?",
                        "What is next to the " + o.category() + " in " + r + "?"), near.category()});
            }
            qa.add(new String[]{"How big is the " + o.category() + " in " + r + " in the picture?", Layout.size(o)});
            if (!o.parts().isEmpty()) {
                long distinct = o.parts().stream().map(Part::name).distinct().count();
                qa.add(new String[]{"How many different parts of the " + o.category() + " in " + r
                        + " are visible?", Long.toString(distinct)});
            }
            // First question always names the category; then two more drawn at random.
            turns.add(Turn.human(qa.getFirst()[0]));
            turns.add(Turn.gpt(qa.getFirst()[1]));
            List<String[]> rest = new ArrayList<>(qa.subList(1, qa.size()));
            for (int k = 0; k < 2 && !rest.isEmpty(); k++) {
                String[] q = rest.remove(rng.nextInt(rest.size()));
                turns.add(Turn.human(q[0]));
                turns.add(Turn.gpt(q[1]));
            }
        }
        return InstructRecord.conversation(s, objects.stream().map(InstructRecord.SceneRegion::of).toList(), turns);
    }
}
