package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.model.Osprey;
import osprey4j.train.DemoModel;
import osprey4j.train.data.Conversation;
import osprey4j.train.export.OspreyShape;

/**
 * {@code osprey train} end to end at tiny dimensions: a synthetic world, its instruction data, a trained tokenizer,
 * a random tiny Osprey, a few steps through the CLI; resuming a run cut after k steps gives the uninterrupted run's
 * losses and weights (up to the kernels' run-to-run noise, see the test); bad input is one line.
 */
class TrainCommandTest {
    @TempDir
    static Path shared;
    static Path world;
    static Path instruct;
    static Path init;
    static Path otherInit;

    private record Run(int rc, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = OspreyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(rc, out.toString(), err.toString());
    }

    @BeforeAll
    static void tinyWorldAndModel() throws IOException {
        world = shared.resolve("world");
        assertEquals(0, run("data", "world", "--images", "3", "--seed", "5", "--size", "64", "--out", world.toString()).rc);
        instruct = world.resolve("instruct");
        Run r = run("data", "instruct", "--annotations", world.toString(), "--no-progress", "--out", instruct.toString());
        assertEquals(0, r.rc, r.err);
        Path tok = shared.resolve("tok").resolve("tokenizer.model");
        DemoModel.trainTokenizer(DemoModel.tokenizerCorpus(instruct, world.resolve("images"), Conversation.OSPREY_V1),
                420, tok);
        OspreyShape shape = DemoModel.shape(420, 32, 64, 1, 2, new int[] {1, 1, 1, 1}, new int[] {8, 16, 24, 32}, 16, 16);
        init = shared.resolve("init");
        DemoModel.writeInitial(init, shape, 3, tok, 64);
        otherInit = shared.resolve("other");
        DemoModel.writeInitial(otherInit, DemoModel.shape(420, 32, 64, 2, 2, new int[] {1, 1, 1, 1},
                new int[] {8, 16, 24, 32}, 16, 16), 4, tok, 64);
    }

    private static List<String> trainArgs(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--stage", "3", "--model", init.toString(), "--data",
                instruct.toString(), "--images", world.resolve("images").toString(), "--out", out.toString(),
                "--lr", "3e-3", "--epochs", "2", "--batch-size", "2", "--limit", "6", "--save-every", "2",
                "--conversation", "osprey_v1", "--tokenizer-mode", "slow", "--seed", "9"));
        a.addAll(List.of(extra));
        return a;
    }

    private static List<JsonNode> log(Path run) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(run.resolve("train_log.jsonl"))) {
            out.add(json.readTree(l));
        }
        return out;
    }

    @Test
    void trainsWritesALoadableModelAndResumesWhereItStopped(@TempDir Path dir) throws IOException {
        // Two runs of the same step in one JVM can differ in the last bits (about 1e-10 of the loss, measured):
        // some kernels are not run-to-run deterministic (FloatVector.reduceLanes orders lanes differently before and
        // after C2 compiles a kernel, and possibly parallel splits). Resumption itself restores the state exactly;
        // the comparison allows that kernel noise and no more.
        Path full = dir.resolve("full");
        Run a = run(trainArgs(full).toArray(String[]::new));
        assertEquals(0, a.rc, a.err);
        assertTrue(a.err.contains("step 6/6"), a.err);
        assertTrue(a.err.contains("tokens/s") && a.err.contains("ETA"), a.err);
        List<JsonNode> fullLog = log(full);
        assertEquals(6, fullLog.size());
        for (JsonNode l : fullLog) {
            assertTrue(Double.isFinite(l.get("loss").asDouble()), l.toString());
            assertTrue(l.get("supervised_tokens").asInt() > 0, l.toString());
        }
        assertTrue(Files.size(full.resolve("loss.png")) > 1000);
        Path model = full.resolve("model");
        JsonNode config = new ObjectMapper().readTree(model.resolve("config.json").toFile());
        assertEquals(64, config.get("mm_image_size").asInt());
        try (Osprey o = Osprey.load(model)) {
            assertEquals(64, o.config().imageSize());
        }
        // the trained weights differ from the starting ones, the frozen tower does not
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(model.resolve("model.safetensors")),
                Files.readAllBytes(init.resolve("model.safetensors"))));
        assertArrayEquals(Files.readAllBytes(init.resolve("open_clip_pytorch_model.bin")),
                Files.readAllBytes(model.resolve("open_clip_pytorch_model.bin")));

        // cut after 3 steps (checkpoint at step 2 only), then --resume
        Path cut = dir.resolve("cut");
        Run b = run(trainArgs(cut, "--stop-after", "3").toArray(String[]::new));
        assertEquals(0, b.rc, b.err);
        assertTrue(b.out.contains("stopped after step 3 of 6"), b.out);
        assertFalse(Files.exists(cut.resolve("model")));
        Run again = run(trainArgs(cut).toArray(String[]::new));
        assertEquals(2, again.rc, again.err);
        assertTrue(again.err.contains("--resume"), again.err);
        Run c = run(trainArgs(cut, "--resume").toArray(String[]::new));
        assertEquals(0, c.rc, c.err);
        assertTrue(c.err.contains("resuming at step 2 of 6"), c.err);
        List<JsonNode> cutLog = log(cut);
        assertEquals(6, cutLog.size());
        for (int i = 0; i < 6; i++) {
            double l = fullLog.get(i).get("loss").asDouble();
            assertEquals(l, cutLog.get(i).get("loss").asDouble(), 1e-7 * Math.abs(l), "step " + (i + 1));
            assertEquals(fullLog.get(i).get("lr").asDouble(), cutLog.get(i).get("lr").asDouble(), 0.0);
        }
        try (Checkpoint x = Checkpoints.open(model); Checkpoint y = Checkpoints.open(cut.resolve("model"))) {
            assertEquals(x.tensors().size(), y.tensors().size());
            for (var info : x.tensors()) {
                float[] a1 = x.tensor(info.name()).toFloatArray();
                float[] b1 = y.tensor(info.name()).toFloatArray();
                for (int k = 0; k < a1.length; k++) {
                    assertEquals(a1[k], b1[k], 1e-4f * Math.max(1f, Math.abs(a1[k])), info.name() + "[" + k + "]");
                }
            }
        }
    }

    @Test
    void aTrainingTowerIsExportedToTheOspreyWeightsAndTheClipFileAndResumes(@TempDir Path dir) throws IOException {
        Path full = dir.resolve("tower");
        Run a = run(trainArgs(full, "--train-tower", "--region-form", "inline", "--turn-order", "shuffled").toArray(String[]::new));
        assertEquals(0, a.rc, a.err);
        assertTrue(a.err.contains("step 6/6"), a.err);
        Path model = full.resolve("model");
        String gamma = "visual.trunk.stages.1.blocks.0.gamma";
        String dw = "visual.trunk.stages.0.blocks.0.conv_dw.weight";
        try (Checkpoint before = Checkpoints.open(init.resolve("open_clip_pytorch_model.bin"));
             Checkpoint after = Checkpoints.open(model.resolve("open_clip_pytorch_model.bin"));
             Checkpoint ospreyAfter = Checkpoints.open(model.resolve("model.safetensors"))) {
            for (String name : List.of(gamma, dw)) {
                float[] b = before.tensor(name).toFloatArray();
                float[] c = after.tensor(name).toFloatArray();
                assertFalse(java.util.Arrays.equals(b, c), name + " trained");
                // the Osprey weights carry the same trained tower (BF16 there, as the CLIP file)
                float[] o = ospreyAfter.tensor("model.vision_tower.vision_tower." + name).toFloatArray();
                for (int k = 0; k < c.length; k++) {
                    assertEquals(c[k], o[k], 1e-2f * Math.max(1f, Math.abs(c[k])), name + "[" + k + "]");
                }
            }
        }
        try (Osprey o = Osprey.load(model)) {
            assertEquals(64, o.config().imageSize());
        }
        Path cut = dir.resolve("tower-cut");
        assertEquals(0, run(trainArgs(cut, "--train-tower", "--region-form", "inline", "--turn-order", "shuffled", "--stop-after", "3")
                .toArray(String[]::new)).rc);
        Run c = run(trainArgs(cut, "--train-tower", "--region-form", "inline", "--turn-order", "shuffled", "--resume").toArray(String[]::new));
        assertEquals(0, c.rc, c.err);
        assertTrue(c.err.contains("resuming at step 2 of 6"), c.err);
        List<JsonNode> fullLog = log(full), cutLog = log(cut);
        for (int i = 0; i < 6; i++) {
            double l = fullLog.get(i).get("loss").asDouble();
            assertEquals(l, cutLog.get(i).get("loss").asDouble(), 1e-6 * Math.abs(l), "step " + (i + 1));
        }
        // a frozen-tower resume directory is not a training-tower one
        Run other = run(trainArgs(cut, "--resume").toArray(String[]::new));
        assertTrue(other.rc != 0 || other.err.contains("no checkpoint"), other.err);
    }

    @Test
    void frozenPrefixesKeepTheirWeightsAndTheRestTrains(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("frozen");
        Run r = run(trainArgs(out, "--freeze", "mask_extractor.res,model.layers.0.mlp", "--repeat",
                "short_form=2,conversation=0").toArray(String[]::new));
        assertEquals(0, r.rc, r.err);
        assertTrue(r.err.contains("subsets repeated conversation=0,short_form=2"), r.err);
        int frozen = 0;
        int moved = 0;
        try (Checkpoint before = Checkpoints.open(init); Checkpoint after = Checkpoints.open(out.resolve("model"))) {
            for (var info : before.tensors()) {
                String name = info.name();
                if (name.contains("vision_tower")) {
                    continue;
                }
                boolean same = java.util.Arrays.equals(before.tensor(name).toFloatArray(), after.tensor(name).toFloatArray());
                if (name.startsWith("mask_extractor.res") || name.startsWith("model.layers.0.mlp")) {
                    assertTrue(same, name + " is frozen");
                    frozen++;
                } else if (!same) {
                    moved++;
                }
            }
        }
        assertEquals(8 + 3, frozen, "res2..res5 weight and bias, layer 0's three MLP projections");
        assertTrue(moved > 10, "the other parameters train: " + moved);
        // a resume directory made without the freezing is another run
        Run other = run(trainArgs(out, "--resume").toArray(String[]::new));
        assertTrue(other.rc != 0 || other.err.contains("no checkpoint"), other.err);
    }

    @Test
    void badInputIsOneLine(@TempDir Path dir) throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        List<String[]> cases = new ArrayList<>();
        cases.add(trainArgs(dir.resolve("a"), "--lr", "-1").toArray(String[]::new));
        cases.add(trainArgs(dir.resolve("a"), "--epochs", "0").toArray(String[]::new));
        cases.add(trainArgs(dir.resolve("a"), "--warmup-ratio", "2").toArray(String[]::new));
        cases.add(trainArgs(dir.resolve("a"), "--max-grad-norm", "-0.5").toArray(String[]::new));
        cases.add(trainArgs(dir.resolve("a"), "--schedule", "zigzag").toArray(String[]::new));
        cases.add(new String[] {"train", "--stage", "4", "--model", init.toString(), "--data", instruct.toString(),
                "--out", dir.resolve("a").toString()});
        cases.add(new String[] {"train", "--stage", "3", "--model", init.toString(), "--data", empty.toString(),
                "--images", world.resolve("images").toString(), "--out", dir.resolve("b").toString()});
        cases.add(new String[] {"train", "--stage", "3", "--model", empty.toString(), "--data", instruct.toString(),
                "--out", dir.resolve("c").toString()});
        cases.add(new String[] {"train", "--stage", "3"});
        cases.add(trainArgs(dir.resolve("d"), "--train-tower", "--stage", "2").toArray(String[]::new));
        cases.add(trainArgs(dir.resolve("e"), "--region-form", "sideways").toArray(String[]::new));
        cases.add(trainArgs(dir.resolve("f"), "--turn-order", "backwards").toArray(String[]::new));
        cases.add(trainArgs(dir.resolve("g"), "--turn-order", "shuffled", "--region-form", "list")
                .toArray(String[]::new));
        cases.add(trainArgs(dir.resolve("h"), "--repeat", "captions=2").toArray(String[]::new));
        cases.add(trainArgs(dir.resolve("h"), "--repeat", "short_form=two").toArray(String[]::new));
        cases.add(trainArgs(dir.resolve("h"), "--repeat", "short_form=2,short_form=3").toArray(String[]::new));
        cases.add(trainArgs(dir.resolve("h"), "--repeat", "short_form=-1").toArray(String[]::new));
        cases.add(trainArgs(dir.resolve("i"), "--freeze", "mask_extractor.resX").toArray(String[]::new));
        for (String[] args : cases) {
            Run r = run(args);
            assertEquals(2, r.rc, String.join(" ", args) + ": " + r.err);
            assertEquals(1, r.err.strip().lines().count(), r.err);
        }
        assertFalse(Files.exists(dir.resolve("a")));

        // a resume directory made from another model
        Path out = dir.resolve("run");
        Run first = run(trainArgs(out, "--stop-after", "2").toArray(String[]::new));
        assertEquals(0, first.rc, first.err);
        List<String> other = trainArgs(out, "--resume");
        other.set(other.indexOf(init.toString()), otherInit.toString());
        Run r = run(other.toArray(String[]::new));
        assertEquals(2, r.rc, r.err);
        assertEquals(1, r.err.strip().lines().count(), r.err);
        assertTrue(r.err.contains("another model"), r.err);
    }
}
