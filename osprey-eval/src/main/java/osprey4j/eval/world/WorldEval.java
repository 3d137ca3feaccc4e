package osprey4j.eval.world;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import osprey4j.core.io.AtomicFiles;
import osprey4j.data.instruct.TextEmbedder;
import osprey4j.data.samples.RegionForm;
import osprey4j.eval.runner.Progress;
import osprey4j.eval.runner.SamplesFile;

/**
 * The quality evaluation on a held-out synthetic world: the figure the demo model's bars are read from.
 *
 * <p>Questions come from {@link WorldQuestions} (the training templates and preprocessing), answers from an
 * {@link Answerer} (one image encode per image), scores from {@link AnswerRules}. Output in {@code out}:
 * <pre>
 * samples.jsonl   one JSON object per question, appended (and flushed) as each is answered
 * summary.json    per-type counts and accuracy against the bars, per-category breakdown
 * report.md       the same as a short Markdown report, with the failures
 * questions/      the instruction files the questions were made from
 * </pre>
 * A rerun with the same output folder skips the questions already in {@code samples.jsonl} (a line cut short by a
 * crash is dropped and asked again), so an interrupted evaluation resumes where it stopped.
 */
public final class WorldEval {
    public static final String SAMPLES = "samples.jsonl";
    public static final String SUMMARY = "summary.json";
    public static final String REPORT = "report.md";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int FAILURES_PER_TYPE = 5;

    /**
     * @param world    the synthetic world ({@code osprey data world}, a seed not used in training)
     * @param out      the output folder (created; reused to resume)
     * @param seed     wording and negative seed of the question templates
     * @param limit    ask only the first {@code limit} questions (0: all)
     * @param embedder the negative miner's embedder (all-MiniLM-L6-v2, as in training)
     * @param progress receives a line now and then (may be a no-op)
     * @param form     how questions show their regions: the reference's training form or as people ask
     *                 {@code osprey ask} ({@link WorldQuestions#build(Path, Path, TextEmbedder, long, RegionForm)})
     */
    public record Options(Path world, Path out, long seed, int limit, TextEmbedder embedder,
                          Consumer<String> progress, RegionForm form) {
        /** The reference's training form ({@link RegionForm#LIST}). */
        public Options(Path world, Path out, long seed, int limit, TextEmbedder embedder, Consumer<String> progress) {
            this(world, out, seed, limit, embedder, progress, RegionForm.LIST);
        }

        public Options {
            Objects.requireNonNull(form, "form");
            Objects.requireNonNull(world, "world");
            Objects.requireNonNull(out, "out");
            Objects.requireNonNull(embedder, "embedder");
            if (limit < 0) {
                throw new IllegalArgumentException("--limit must be 0 (all) or positive, got " + limit);
            }
            progress = progress == null ? s -> { } : progress;
        }
    }

    /** One scored question, as stored in {@code samples.jsonl}. */
    public record Sample(String id, QuestionType type, String image, String category, String question,
                         String reference, String truth, String answer, boolean correct, String reason, double ms) {
        ObjectNode json() {
            ObjectNode o = JSON.createObjectNode();
            o.put("id", id);
            o.put("type", type.name());
            o.put("image", image);
            o.put("category", category);
            o.put("question", question);
            o.put("reference", reference);
            o.put("truth", truth);
            o.put("answer", answer);
            o.put("correct", correct);
            o.put("reason", reason);
            o.put("ms", Math.round(ms * 10) / 10.0);
            return o;
        }

        static Sample of(JsonNode o) {
            return new Sample(o.get("id").asText(), QuestionType.valueOf(o.get("type").asText()),
                    o.path("image").asText(), o.path("category").asText(), o.path("question").asText(),
                    o.path("reference").asText(), o.path("truth").asText(), o.path("answer").asText(),
                    o.get("correct").asBoolean(), o.path("reason").asText(), o.path("ms").asDouble());
        }
    }

    /** Correct out of asked. */
    public record Score(int asked, int correct) {
        public double accuracy() {
            return asked == 0 ? 0 : (double) correct / asked;
        }

        Score plus(boolean ok) {
            return new Score(asked + 1, correct + (ok ? 1 : 0));
        }
    }

    /**
     * @param questions  questions in this evaluation (after the limit)
     * @param askedNow   answered in this run
     * @param resumed    taken from an earlier run's samples.jsonl
     * @param byType     per question type (all types, zero when none was asked)
     * @param byCategory per type, per category of the (first) region's object
     * @param failures   per type, a few failures from the categories with the lowest accuracy
     */
    public record Report(String answerer, Path world, int questions, int askedNow, int resumed,
                         Map<QuestionType, Score> byType, Map<QuestionType, Map<String, Score>> byCategory,
                         Map<QuestionType, List<Sample>> failures, double seconds) {
        /** Whether every type that was asked reaches its bar. */
        public boolean meetsBars() {
            return byType.entrySet().stream().allMatch(e -> e.getValue().asked() == 0
                    || e.getValue().accuracy() >= e.getKey().bar());
        }
    }

    private WorldEval() {
    }

    public static Report run(Options options, Answerer answerer) throws IOException {
        long t0 = System.nanoTime();
        if (!Files.isDirectory(options.world())) {
            throw new IllegalArgumentException("world directory not found: " + options.world());
        }
        Files.createDirectories(options.out());
        List<WorldQuestions.ImageQuestions> images = WorldQuestions.build(options.world(),
                options.out().resolve("questions"), options.embedder(), options.seed(), options.form());
        images = limited(images, options.limit());
        int total = images.stream().mapToInt(i -> i.questions().size()).sum();
        AnswerRules rules = new AnswerRules(worldColours(options.world().resolve("instances.json")));

        Path samplesFile = options.out().resolve(SAMPLES);
        Map<String, Sample> done = readSamples(samplesFile);
        Set<String> wanted = new LinkedHashSet<>();
        images.forEach(i -> i.questions().forEach(q -> wanted.add(q.id())));
        int resumed = (int) done.keySet().stream().filter(wanted::contains).count();
        int askedNow = 0;
        Progress progress = new Progress(options.progress(), total, resumed, 5000);
        try (SamplesFile w = SamplesFile.append(samplesFile)) {
            for (WorldQuestions.ImageQuestions image : images) {
                List<WorldQuestion> todo = image.questions().stream().filter(q -> !done.containsKey(q.id())).toList();
                if (todo.isEmpty()) {
                    continue;
                }
                Answerer.ImageAnswers answers = answerer.open(image.image());
                for (WorldQuestion q : todo) {
                    long s0 = System.nanoTime();
                    String answer = answers.answer(q);
                    double ms = (System.nanoTime() - s0) / 1e6;
                    AnswerRules.Verdict v = rules.score(q, answer);
                    Sample s = new Sample(q.id(), q.type(), options.world().relativize(image.image()).toString(),
                            q.category(), q.text(), q.reference(), q.truth(), answer, v.correct(), v.reason(), ms);
                    w.write(s.json());
                    done.put(q.id(), s);
                    askedNow++;
                    progress.answered();
                }
            }
        }
        List<Sample> results = new ArrayList<>();
        for (String id : wanted) {
            results.add(done.get(id));
        }
        Report report = report(answerer.name(), options.world(), results, total, askedNow, resumed,
                (System.nanoTime() - t0) / 1e9);
        AtomicFiles.write(options.out().resolve(SUMMARY), f -> Files.writeString(f,
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json(report)) + "\n"));
        AtomicFiles.write(options.out().resolve(REPORT), f -> Files.writeString(f, markdown(report)));
        return report;
    }

    /** The first {@code limit} questions (0: all), image by image, as {@link #run} asks them. */
    public static List<WorldQuestions.ImageQuestions> limited(List<WorldQuestions.ImageQuestions> images, int limit) {
        if (limit == 0) {
            return images;
        }
        List<WorldQuestions.ImageQuestions> out = new ArrayList<>();
        int left = limit;
        for (WorldQuestions.ImageQuestions i : images) {
            if (left == 0) {
                break;
            }
            List<WorldQuestion> qs = i.questions().subList(0, Math.min(left, i.questions().size()));
            out.add(new WorldQuestions.ImageQuestions(i.image(), qs));
            left -= qs.size();
        }
        return out;
    }

    /** The samples already answered ({@link SamplesFile#read}: a line cut short by a crash is dropped). */
    static Map<String, Sample> readSamples(Path file) throws IOException {
        Map<String, Sample> out = new LinkedHashMap<>();
        for (JsonNode o : SamplesFile.read(file).values()) {
            try {
                Sample s = Sample.of(o);
                out.put(s.id(), s);
            } catch (RuntimeException damaged) {
                // a line of another shape: asked again
            }
        }
        return out;
    }

    /** The colour names of the world's colour attributes ({@code instances.json}, top-level {@code attributes}). */
    public static List<String> worldColours(Path instances) throws IOException {
        List<String> out = new ArrayList<>();
        try (JsonParser p = JSON.getFactory().createParser(instances.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return out;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if (field.equals("attributes") && p.currentToken() == JsonToken.START_ARRAY) {
                    JsonNode all = JSON.readTree(p);
                    for (JsonNode a : all) {
                        if (a.path("type").asText().equals("color")) {
                            out.add(a.path("name").asText());
                        }
                    }
                } else {
                    p.skipChildren();
                }
            }
        }
        return out;
    }

    /** The report of scored samples (in question order), as {@link #run} makes it; also for runs made elsewhere. */
    public static Report report(String answerer, Path world, List<Sample> results, int total, int askedNow, int resumed,
                         double seconds) {
        Map<QuestionType, Score> byType = new EnumMap<>(QuestionType.class);
        Map<QuestionType, Map<String, Score>> byCategory = new EnumMap<>(QuestionType.class);
        for (QuestionType t : QuestionType.values()) {
            byType.put(t, new Score(0, 0));
            byCategory.put(t, new TreeMap<>());
        }
        for (Sample s : results) {
            byType.merge(s.type(), new Score(0, 0), (a, b) -> a.plus(s.correct()));
            byCategory.get(s.type()).merge(s.category(), new Score(1, s.correct() ? 1 : 0),
                    (a, b) -> a.plus(s.correct()));
        }
        Map<QuestionType, List<Sample>> failures = new EnumMap<>(QuestionType.class);
        for (QuestionType t : QuestionType.values()) {
            Map<String, Score> cats = byCategory.get(t);
            Map<String, Integer> rank = new HashMap<>();
            List<String> order = new ArrayList<>(cats.keySet());
            order.sort(Comparator.comparingDouble((String c) -> cats.get(c).accuracy()).thenComparing(c -> c));
            for (int i = 0; i < order.size(); i++) {
                rank.put(order.get(i), i);
            }
            failures.put(t, results.stream().filter(s -> s.type() == t && !s.correct())
                    .sorted(Comparator.comparingInt((Sample s) -> rank.getOrDefault(s.category(), 0)))
                    .limit(FAILURES_PER_TYPE).toList());
        }
        return new Report(answerer, world, total, askedNow, resumed, byType, byCategory, failures, seconds);
    }

    public static ObjectNode json(Report r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("answerer", r.answerer());
        o.put("world", r.world().toString());
        o.put("questions", r.questions());
        o.put("asked_now", r.askedNow());
        o.put("resumed", r.resumed());
        o.put("meets_bars", r.meetsBars());
        o.put("seconds", Math.round(r.seconds() * 10) / 10.0);
        ObjectNode types = o.putObject("types");
        for (QuestionType t : QuestionType.values()) {
            Score s = r.byType().get(t);
            ObjectNode n = types.putObject(t.name().toLowerCase(Locale.ROOT));
            n.put("label", t.label());
            n.put("asked", s.asked());
            n.put("correct", s.correct());
            n.put("accuracy", s.accuracy());
            n.put("bar", t.bar());
            n.put("meets_bar", s.asked() > 0 && s.accuracy() >= t.bar());
            ObjectNode cats = n.putObject("by_category");
            r.byCategory().get(t).forEach((c, cs) -> {
                ObjectNode cn = cats.putObject(c);
                cn.put("asked", cs.asked());
                cn.put("correct", cs.correct());
            });
            ArrayNode fails = n.putArray("failures");
            r.failures().get(t).forEach(f -> fails.add(f.json()));
        }
        return o;
    }

    public static String markdown(Report r) {
        StringBuilder b = new StringBuilder();
        b.append("# World evaluation\n\n");
        b.append("Answerer: `").append(r.answerer()).append("`  \nWorld: `").append(r.world()).append("`  \n");
        b.append(r.questions()).append(" questions (").append(r.askedNow()).append(" asked in this run, ")
                .append(r.resumed()).append(" from an earlier run); ")
                .append(String.format(Locale.ROOT, "%.1f s", r.seconds())).append(".\n\n");
        b.append("| question type | correct | asked | accuracy | bar | |\n|---|---:|---:|---:|---:|---|\n");
        for (QuestionType t : QuestionType.values()) {
            Score s = r.byType().get(t);
            b.append("| ").append(t.label()).append(" | ").append(s.correct()).append(" | ").append(s.asked())
                    .append(" | ").append(s.asked() == 0 ? "-" : percent(s.accuracy())).append(" | ")
                    .append(percent(t.bar())).append(" | ")
                    .append(s.asked() == 0 ? "not asked" : s.accuracy() >= t.bar() ? "meets" : "below")
                    .append(" |\n");
        }
        b.append("\n## By category\n\n| category |");
        Set<String> categories = new java.util.TreeSet<>();
        r.byCategory().values().forEach(m -> categories.addAll(m.keySet()));
        for (QuestionType t : QuestionType.values()) {
            b.append(' ').append(t.name().toLowerCase(Locale.ROOT)).append(" |");
        }
        b.append("\n|---|").append("---:|".repeat(QuestionType.values().length)).append('\n');
        for (String c : categories) {
            b.append("| ").append(c).append(" |");
            for (QuestionType t : QuestionType.values()) {
                Score s = r.byCategory().get(t).get(c);
                b.append(' ').append(s == null ? "" : s.correct() + "/" + s.asked()).append(" |");
            }
            b.append('\n');
        }
        b.append("\n## Failures (from the weakest categories)\n");
        for (QuestionType t : QuestionType.values()) {
            List<Sample> f = r.failures().get(t);
            if (f.isEmpty()) {
                continue;
            }
            b.append("\n### ").append(t.label()).append("\n\n");
            for (Sample s : f) {
                b.append("- `").append(s.id()).append("` (").append(s.category()).append("): asked \"")
                        .append(oneLine(lastLine(s.question()))).append("\", answered \"").append(oneLine(s.answer()))
                        .append("\"; ").append(s.reason()).append('\n');
            }
        }
        b.append("\nRules: see `AnswerRules` (osprey-eval); every answer is in `samples.jsonl`.\n");
        return b.toString();
    }

    private static String percent(double v) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    private static String lastLine(String s) {
        int i = s.lastIndexOf('\n');
        return i < 0 ? s : s.substring(i + 1);
    }

    private static String oneLine(String s) {
        String t = s.replace('\n', ' ').strip();
        return t.length() > 160 ? t.substring(0, 157) + "..." : t;
    }
}
