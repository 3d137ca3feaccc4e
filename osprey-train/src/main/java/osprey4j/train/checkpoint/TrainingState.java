package osprey4j.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Everything a training run needs to continue exactly where it stopped, as plain named tensors and values, with
 * no dependency on the optimiser's or the trainer's classes.
 *
 * @param modelIdentity   what the parameters belong to (see {@link #modelIdentity(String...)}); a resume
 *                        directory for another model is refused
 * @param step            optimiser steps taken
 * @param schedulePosition the learning-rate schedule's position (usually the step; kept apart for schedules
 *                        restarted or stretched mid-run)
 * @param dataSeed        the seed the data order was drawn with
 * @param dataOrder       the order samples are visited in this epoch (a permutation of sample indices)
 * @param dataPosition    how many entries of {@code dataOrder} have been consumed
 * @param epoch           passes over the data completed
 * @param rngState        the trainer's random generator state (dropout, sampling), opaque here
 * @param hyperParameters learning rate, betas, weight decay, batch size... as the trainer records them
 * @param parameters      trainable parameters, F32, by name
 * @param firstMoments    AdamW first moments, F32, one per parameter, same shape
 * @param secondMoments   AdamW second moments, F32, one per parameter, same shape
 */
public record TrainingState(String modelIdentity, long step, long schedulePosition, long dataSeed, int[] dataOrder,
                            long dataPosition, long epoch, long[] rngState, JsonNode hyperParameters,
                            Map<String, Tensor> parameters, Map<String, Tensor> firstMoments,
                            Map<String, Tensor> secondMoments) {
    public TrainingState {
        Objects.requireNonNull(modelIdentity, "modelIdentity");
        if (step < 0 || schedulePosition < 0 || dataPosition < 0 || epoch < 0) {
            throw new IllegalArgumentException("step, schedule position, data position and epoch must not be negative");
        }
        dataOrder = dataOrder == null ? new int[0] : dataOrder.clone();
        if (dataPosition > dataOrder.length) {
            throw new IllegalArgumentException("data position " + dataPosition + " is past the data order's "
                    + dataOrder.length + " entries");
        }
        rngState = rngState == null ? new long[0] : rngState.clone();
        hyperParameters = hyperParameters == null ? JsonNodeFactory.instance.objectNode() : hyperParameters.deepCopy();
        parameters = Map.copyOf(parameters);
        firstMoments = Map.copyOf(firstMoments);
        secondMoments = Map.copyOf(secondMoments);
        for (Map.Entry<String, Tensor> e : parameters.entrySet()) {
            String name = e.getKey();
            checkF32(name, e.getValue());
            for (Map<String, Tensor> moments : java.util.List.of(firstMoments, secondMoments)) {
                Tensor m = moments.get(name);
                if (m == null) {
                    throw new IllegalArgumentException("parameter '" + name + "' has no "
                            + (moments == firstMoments ? "first" : "second") + " moment");
                }
                checkF32(name, m);
                if (!Arrays.equals(m.shape(), e.getValue().shape())) {
                    throw new IllegalArgumentException("moment of '" + name + "' has shape "
                            + Arrays.toString(m.shape()) + ", the parameter " + Arrays.toString(e.getValue().shape()));
                }
            }
        }
        for (String name : firstMoments.keySet()) {
            if (!parameters.containsKey(name)) {
                throw new IllegalArgumentException("first moment '" + name + "' has no parameter");
            }
        }
        for (String name : secondMoments.keySet()) {
            if (!parameters.containsKey(name)) {
                throw new IllegalArgumentException("second moment '" + name + "' has no parameter");
            }
        }
    }

    private static void checkF32(String name, Tensor t) {
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException("'" + name + "' is " + t.dtype() + "; training state is F32");
        }
    }

    @Override
    public int[] dataOrder() {
        return dataOrder.clone();
    }

    @Override
    public long[] rngState() {
        return rngState.clone();
    }

    @Override
    public JsonNode hyperParameters() {
        return hyperParameters.deepCopy();
    }

    /**
     * A model identity from the things that make two runs' parameters interchangeable (the model's dimensions, the
     * starting weights' identity, which parts train): SHA-256 of the parts, as 64 hex digits.
     */
    public static String modelIdentity(String... parts) {
        try {
            var sha = java.security.MessageDigest.getInstance("SHA-256");
            for (String p : parts) {
                sha.update(p.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return java.util.HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The parameters sorted by name (the order they are written in). */
    Map<String, Tensor> sortedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        parameters.keySet().stream().sorted().forEach(k -> out.put(k, parameters.get(k)));
        return out;
    }
}
