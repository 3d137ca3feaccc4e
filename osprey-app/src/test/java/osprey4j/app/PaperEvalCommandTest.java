package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code osprey eval lvis|pope|...} on the small random-weight parity model and hand-made official-layout files. */
class PaperEvalCommandTest {
    static final String MODEL = EvalCommandTest.MODEL.toString();

    private record Run(int rc, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = OspreyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(rc, out.toString(), err.toString());
    }

    static Path images(Path dir, String... names) throws IOException {
        Path images = Files.createDirectories(dir.resolve("images"));
        for (int i = 0; i < names.length; i++) {
            BufferedImage img = new BufferedImage(24, 16, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 24; x++) {
                    img.setRGB(x, y, (x * 10 + i * 40) << 16 | (y * 15) << 8 | 90);
                }
            }
            ImageIO.write(img, "png", images.resolve(names[i]).toFile());
        }
        return images;
    }

    @Test
    void lvisRunsResumesAndReports(@TempDir Path dir) throws IOException {
        Path images = images(dir, "a.jpg", "b.jpg");
        Path data = Files.writeString(dir.resolve("lvis_val_1k_category.json"), """
                [{"file_name": "a.jpg", "height": 16, "width": 24, "categories": ["dog", "baseball_bat"],
                  "annotations": [{"segmentation": [[2,2,10,2,10,10,2,10]]}, {"segmentation": [[12,2,20,2,20,12,12,12]]}]},
                 {"file_name": "b.jpg", "height": 16, "width": 24, "categories": ["mug:handle"],
                  "annotations": [{"segmentation": [[4,4,16,4,16,14,4,14]]}]}]
                """);
        Path out = dir.resolve("out");
        String[] args = {"eval", "lvis", "--model", MODEL, "--data", data.toString(), "--images", images.toString(),
                "--out", out.toString(), "--greedy", "--max-new-tokens", "3", "--limit", "2", "--json"};
        Run first = run(args);
        assertEquals(0, first.rc, first.err);
        JsonNode s = new ObjectMapper().readTree(first.out);
        assertEquals(2, s.get("samples").asInt());
        assertEquals(2, s.get("answered_now").asInt());
        assertTrue(s.get("semantic_similarity").isNumber());
        assertEquals(0.3819, s.get("paper_osprey_7b").get("semantic_iou").asDouble());
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("| Semantic Similarity |"), md);
        assertTrue(md.contains("![charts](chart.png)"), md);
        assertTrue(Files.size(out.resolve("chart.png")) > 1000);
        try (var drawn = Files.list(out.resolve("worst"))) {
            assertEquals(2, drawn.count(), "both answers drawn");
        }
        if (System.getenv("OSPREY_KEEP_EVAL_REPORT") != null) {
            copy(out, Path.of(System.getenv("OSPREY_KEEP_EVAL_REPORT")));
        }

        args[args.length - 2] = "3";
        Run more = run(args);
        assertEquals(0, more.rc, more.err);
        JsonNode m = new ObjectMapper().readTree(more.out);
        assertEquals(3, m.get("samples").asInt());
        assertEquals(1, m.get("answered_now").asInt());
        assertEquals(2, m.get("resumed").asInt());
        assertEquals(3, Files.readAllLines(out.resolve("samples.jsonl")).size());
    }

    static void copy(Path from, Path to) throws IOException {
        try (var all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    @Test
    void popeSampledWithASeed(@TempDir Path dir) throws IOException {
        Path images = images(dir, "COCO_val2014_000000000001.jpg");
        Path data = Files.writeString(dir.resolve("coco_pope_random.json"), """
                {"question_id": 1, "image": "COCO_val2014_000000000001.jpg", "text": "Is there a dog in the image?", "label": "yes"}
                {"question_id": 2, "image": "COCO_val2014_000000000001.jpg", "text": "Is there a cat in the image?", "label": "no"}
                """);
        Path out = dir.resolve("pope");
        Run r = run("eval", "pope", "--model", MODEL, "--data", data.toString(), "--images", images.toString(),
                "--out", out.toString(), "--seed", "9", "--max-new-tokens", "3");
        assertEquals(0, r.rc, r.err);
        assertTrue(r.out.contains("accuracy"), r.out);
        JsonNode run = new ObjectMapper().readTree(out.resolve("run.json").toFile());
        assertEquals(9, run.get("decoding").get("seed").asInt());
        assertTrue(Files.readString(out.resolve("report.md")).contains("| Accuracy |"));
    }

    @Test
    void badArgumentsAreOneLineErrors(@TempDir Path dir) throws IOException {
        Path images = images(dir, "a.jpg");
        Path data = Files.writeString(dir.resolve("coco_pope_random.json"), "");
        String img = images.toString();
        String o = dir.resolve("o").toString();
        for (String[] args : new String[][] {
                {"eval", "lvis", "--model", MODEL, "--data", dir.resolve("nope.json").toString(), "--images", img,
                        "--out", o},
                {"eval", "pope", "--model", MODEL, "--data", data.toString(), "--images", dir.resolve("x").toString(),
                        "--out", o},
                {"eval", "pope", "--model", MODEL, "--data", data.toString(), "--images", img, "--out", o,
                        "--greedy", "--seed", "3"},
                {"eval", "pope", "--model", MODEL, "--data", data.toString(), "--images", img, "--out", o,
                        "--shard", "3/2"},
                {"eval", "refcocog", "--model", MODEL, "--data", data.toString(), "--images", img, "--out", o,
                        "--limit", "-2"},
                {"eval", "ferret", "--model", MODEL, "--data", data.toString(), "--images", img, "--out", o,
                        "--judge", "http://127.0.0.1:9/v1"},
                {"eval", "ferret", "--model", MODEL, "--data", data.toString(), "--images", img, "--out", o,
                        "--judge", "http://127.0.0.1:9/v1", "--judge-model", "m", "--judge-data",
                        dir.resolve("nothing").toString()},
                {"eval", "description", "--model", MODEL, "--data", data.toString(), "--images", img, "--out", o,
                        "--judge", "http://127.0.0.1:9/v1", "--judge-model", "m"}}) {
            Run r = run(args);
            assertEquals(2, r.rc, String.join(" ", args) + ": " + r.err);
            assertEquals(1, r.err.strip().lines().count(), r.err);
        }
        Run noJudgeFiles = run("eval", "description", "--model", MODEL, "--data", data.toString(), "--images", img,
                "--out", o, "--judge", "http://127.0.0.1:9/v1", "--judge-model", "m");
        assertTrue(noJudgeFiles.err.contains("judge data file not found") && noJudgeFiles.err.contains("answers.json"),
                noJudgeFiles.err);
        Run noMeteor = run("eval", "refcocog", "--model", MODEL, "--data", data.toString(), "--images", img, "--out", o,
                "--meteor-data", dir.resolve("meteor").toString());
        assertEquals(2, noMeteor.rc, noMeteor.err);
        assertEquals(1, noMeteor.err.strip().lines().count(), noMeteor.err);
        assertTrue(noMeteor.err.contains("--meteor-data") && noMeteor.err.contains("not found"), noMeteor.err);
        assertEquals(0, run("eval", "paco", "--help").rc);
    }
}
