package osprey4j.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.io.FileTrees;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.io.TensorInfo;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * The resume directory of a training run: one folder per saved step,
 *
 * <pre>
 * RESUME/step-00000100/state.json          format, model identity, step, schedule position, data seed and
 *                                          position, epoch, RNG state, hyper-parameters
 * RESUME/step-00000100/state.safetensors   param/NAME, adam_m/NAME, adam_v/NAME (F32) and data_order (I32)
 * </pre>
 *
 * Each step folder is written as a hidden sibling and renamed into place, so a crash leaves whole folders only;
 * {@link #latest} reads the highest step. {@link #save} keeps the last {@code keep} folders.
 */
public final class TrainingCheckpoints {
    public static final int FORMAT = 1;
    public static final String STATE_JSON = "state.json";
    public static final String STATE_TENSORS = "state.safetensors";
    private static final Pattern STEP_DIR = Pattern.compile("^step-(\\d{8,})$");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PARAM = "param/";
    private static final String M = "adam_m/";
    private static final String V = "adam_v/";
    private static final String ORDER = "data_order";

    private final Path dir;
    private final int every;
    private final int keep;

    /**
     * @param dir   the resume directory (created)
     * @param every save every this many steps ({@link #maybeSave})
     * @param keep  how many step folders to keep (at least 1)
     */
    public TrainingCheckpoints(Path dir, int every, int keep) {
        if (every < 1 || keep < 1) {
            throw new IllegalArgumentException("save every >= 1 steps and keep >= 1 checkpoints (got every " + every
                    + ", keep " + keep + ")");
        }
        this.dir = dir;
        this.every = every;
        this.keep = keep;
    }

    /** Saves when {@code step} is a multiple of the interval; the state is only built then. */
    public boolean maybeSave(long step, java.util.function.Supplier<TrainingState> state) {
        if (step <= 0 || step % every != 0) {
            return false;
        }
        save(state.get());
        return true;
    }

    /** Writes the state as {@code step-NNNNNNNN} and removes older folders beyond {@code keep}. */
    public Path save(TrainingState state) {
        try {
            Files.createDirectories(dir);
            Path target = dir.resolve(String.format("step-%08d", state.step())).toAbsolutePath();
            Path tmp = AtomicFiles.temporarySibling(target);
            try {
                Files.createDirectory(tmp);
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                state.sortedParameters().forEach((name, p) -> {
                    tensors.put(PARAM + name, p);
                    tensors.put(M + name, state.firstMoments().get(name));
                    tensors.put(V + name, state.secondMoments().get(name));
                });
                int[] order = state.dataOrder();
                Tensor orderTensor = Tensor.zeros(DType.I32, order.length);
                for (int i = 0; i < order.length; i++) {
                    orderTensor.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED
                            .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), i, order[i]);
                }
                tensors.put(ORDER, orderTensor);
                SafetensorsWriter.write(tmp.resolve(STATE_TENSORS), tensors, Map.of("model", state.modelIdentity()));
                Files.writeString(tmp.resolve(STATE_JSON),
                        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta(state)) + "\n");
                if (Files.exists(target)) {
                    Path old = AtomicFiles.temporarySibling(target);
                    AtomicFiles.moveIntoPlace(target, old);
                    AtomicFiles.moveIntoPlace(tmp, target);
                    FileTrees.delete(old);
                } else {
                    AtomicFiles.moveIntoPlace(tmp, target);
                }
            } finally {
                FileTrees.delete(tmp);
            }
            List<Path> steps = steps(dir);
            for (int i = 0; i + keep < steps.size(); i++) {
                FileTrees.delete(steps.get(i));
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot save the training state (" + e.getMessage() + ")", e);
        }
    }

    private static ObjectNode meta(TrainingState s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("model", s.modelIdentity());
        o.put("step", s.step());
        o.put("schedule_position", s.schedulePosition());
        o.put("data_seed", s.dataSeed());
        o.put("data_position", s.dataPosition());
        o.put("data_order_length", s.dataOrder().length);
        o.put("epoch", s.epoch());
        ArrayNode rng = o.putArray("rng_state");
        for (long v : s.rngState()) {
            rng.add(v);
        }
        o.set("hyper_parameters", s.hyperParameters());
        o.put("parameters", s.parameters().size());
        return o;
    }

    /** The newest saved state in {@code resumeDir}, if any, checked to belong to {@code expectedModel}. */
    public static Optional<TrainingState> latest(Path resumeDir, String expectedModel) {
        if (!Files.isDirectory(resumeDir)) {
            return Optional.empty();
        }
        try {
            List<Path> steps = steps(resumeDir);
            return steps.isEmpty() ? Optional.empty() : Optional.of(read(steps.getLast(), expectedModel));
        } catch (IOException e) {
            throw new UncheckedIOException(resumeDir + ": cannot list the resume directory (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Reads one step folder.
     *
     * @throws IllegalArgumentException (one line) when it is not a training state, is damaged, or belongs to
     *                                  another model than {@code expectedModel}
     */
    public static TrainingState read(Path stepDir, String expectedModel) {
        Path json = stepDir.resolve(STATE_JSON);
        if (!Files.isRegularFile(json)) {
            throw new IllegalArgumentException(stepDir + " is not a training state (no " + STATE_JSON + ")");
        }
        JsonNode meta;
        try {
            meta = JSON.readTree(json.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(json + ": not valid JSON (" + e.getMessage().lines().findFirst()
                    .orElse("") + ")");
        }
        if (meta == null || meta.path("format").asInt(-1) != FORMAT) {
            throw new IllegalArgumentException(json + ": unknown training-state format " + (meta == null ? "null"
                    : meta.path("format")) + " (this build reads format " + FORMAT + ")");
        }
        String model = meta.path("model").asText();
        if (!model.equals(expectedModel)) {
            throw new IllegalArgumentException("resume directory " + stepDir.getParent() + " holds the training state "
                    + "of another model (" + abbreviate(model) + ", this run is " + abbreviate(expectedModel)
                    + "); use a new resume directory or the matching model");
        }
        Map<String, Tensor> params = new HashMap<>();
        Map<String, Tensor> m = new HashMap<>();
        Map<String, Tensor> v = new HashMap<>();
        int[] order;
        try (Checkpoint c = Checkpoints.open(stepDir.resolve(STATE_TENSORS))) {
            if (!expectedModel.equals(c.metadata().get("model"))) {
                throw new IllegalArgumentException(stepDir.resolve(STATE_TENSORS) + " belongs to another model than "
                        + json);
            }
            for (TensorInfo info : c.tensors()) {
                String name = info.name();
                Map<String, Tensor> into = name.startsWith(PARAM) ? params : name.startsWith(M) ? m
                        : name.startsWith(V) ? v : null;
                if (into != null) {
                    String key = name.substring(name.indexOf('/') + 1);
                    into.put(key, c.tensor(name).copy());
                }
            }
            Tensor t = c.tensor(ORDER);
            if (t.dtype() != DType.I32 || t.numel() != meta.path("data_order_length").asLong(-1)) {
                throw new IllegalArgumentException(stepDir + ": the data order does not match " + STATE_JSON);
            }
            order = new int[(int) t.numel()];
            for (int i = 0; i < order.length; i++) {
                order[i] = (int) t.getLong(i);
            }
        } catch (CheckpointException e) {
            throw new IllegalArgumentException(stepDir + ": damaged training state (" + e.getMessage() + ")", e);
        }
        long[] rng = new long[meta.path("rng_state").size()];
        for (int i = 0; i < rng.length; i++) {
            rng[i] = meta.path("rng_state").get(i).asLong();
        }
        if (params.size() != meta.path("parameters").asInt(-1)) {
            throw new IllegalArgumentException(stepDir + ": " + params.size() + " parameters stored, " + STATE_JSON
                    + " says " + meta.path("parameters"));
        }
        return new TrainingState(model, meta.path("step").asLong(), meta.path("schedule_position").asLong(),
                meta.path("data_seed").asLong(), order, meta.path("data_position").asLong(), meta.path("epoch").asLong(),
                rng, meta.path("hyper_parameters"), params, m, v);
    }

    private static String abbreviate(String id) {
        return id.length() > 12 ? id.substring(0, 12) + "..." : id;
    }

    /** Complete step folders, oldest first. */
    static List<Path> steps(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                Matcher m = STEP_DIR.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) {
                    out.add(p);
                }
            }
        }
        out.sort(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(5))));
        return out;
    }
}
