package osprey4j.service;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.io.FileTrees;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.io.TensorInfo;
import osprey4j.core.kernels.Quantize;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.llm.Llama;

/**
 * {@code osprey quantize}: a model directory whose LLM {@code Linear} weights (the attention and MLP projections of
 * every layer, and optionally {@code lm_head}) are Q8_0 or Q4_0, every other tensor (embeddings, norms, vision
 * tower, mask extractor, projector) as it was. A linear weight whose rows are not a whole number of blocks (32
 * values) keeps its type too, and is listed in the result (llama.cpp's quantiser falls back the same way). The
 * weights go to one {@code model.safetensors} that records the
 * block layout in its metadata; every other regular file of the source directory (config, tokenizer, the CLIP
 * file that {@code mm_vision_tower} names...) is copied. The directory appears whole or not at all: it is built
 * under a temporary name next to the target and renamed at the end.
 */
public final class QuantizeModel {
    /** What was written. */
    public record Result(Path out, DType type, int quantized, int kept, long sourceBytes, long outBytes,
                         List<String> copied, List<String> notBlockAligned) {
    }

    private QuantizeModel() {
    }

    /**
     * Quantises {@code modelDir} into the new directory {@code outDir} (which must not exist, or be empty).
     *
     * @throws InvalidRequestException for a bad type, directory or weight (a one-line reason)
     */
    public static Result run(Path modelDir, DType type, boolean withHead, Path outDir) {
        Objects.requireNonNull(type, "type");
        if (!type.isBlockQuantized()) {
            throw new InvalidRequestException("quantize: the type must be Q8_0 or Q4_0, got " + type);
        }
        if (!Files.isDirectory(modelDir)) {
            throw new InvalidRequestException("model directory not found: " + modelDir);
        }
        Path out = outDir.toAbsolutePath().normalize();
        if (out.equals(modelDir.toAbsolutePath().normalize())) {
            throw new InvalidRequestException("--out must differ from --model");
        }
        if (Files.exists(out) && !isEmptyDirectory(out)) {
            throw new InvalidRequestException(out + " already exists and is not an empty directory");
        }
        Path weightsFile = Checkpoints.findInDirectory(modelDir);
        Path parent = out.getParent();
        Path tmp;
        try {
            Files.createDirectories(parent);
            tmp = Files.createTempDirectory(parent, "." + out.getFileName() + ".tmp");
        } catch (IOException e) {
            throw new InvalidRequestException("cannot create " + out + " (" + e.getMessage() + ")");
        }
        try {
            Result r = write(modelDir, weightsFile, type, withHead, tmp, out);
            AtomicFiles.publishDirectory(tmp, out);   // out is absent or empty, checked above
            return r;
        } catch (IOException e) {
            FileTrees.deleteQuietly(tmp);
            throw new InvalidRequestException("cannot write " + out + " (" + e.getMessage() + ")");
        } catch (RuntimeException e) {
            FileTrees.deleteQuietly(tmp);
            throw e;
        }
    }

    private static Result write(Path modelDir, Path weightsFile, DType type, boolean withHead, Path tmp, Path out)
            throws IOException {
        Set<Path> weightFiles = new HashSet<>();
        weightFiles.add(weightsFile.toAbsolutePath().normalize());
        List<String> notBlockAligned = new ArrayList<>();
        int quantized = 0;
        int kept = 0;
        long sourceBytes = 0;
        long outBytes = 0;
        try (Checkpoint ck = Checkpoints.open(weightsFile)) {
            // Tensors are made one at a time as the writer reaches them (each quantised copy lives only until it
            // is written), so a 7B model never has all its quantised weights in memory at once.
            Map<String, SafetensorsWriter.Deferred> tensors = new LinkedHashMap<>();
            for (TensorInfo info : ck.tensors()) {
                if (info.file() != null) {
                    weightFiles.add(info.file().toAbsolutePath().normalize());
                }
                String name = info.name();
                sourceBytes += info.byteSize();
                boolean linear = Llama.isLinearWeightKey(name, withHead);
                if (linear && info.shape().length == 2 && info.shape()[1] % type.blockSize() != 0) {
                    notBlockAligned.add(name + " " + java.util.Arrays.toString(info.shape()));
                    linear = false;
                }
                if (linear && info.dtype() != type) {
                    checkQuantisable(name, info);
                    tensors.put(name, new SafetensorsWriter.Deferred(type, info.shape(),
                            arena -> quantizeWeight(ck, name, type, arena)));
                    outBytes += type.bytesFor(Tensor.numel(info.shape()));
                    quantized++;
                } else {
                    if (linear) {
                        quantized++; // already of the type asked for
                    } else {
                        kept++;
                    }
                    tensors.put(name, new SafetensorsWriter.Deferred(info.dtype(), info.shape(), arena -> ck.tensor(name)));
                    outBytes += info.byteSize();
                }
            }
            if (quantized == 0) {
                throw new InvalidRequestException(weightsFile + " has no LLM linear weights "
                        + "(model.layers.N.self_attn.q_proj.weight ...) to quantise");
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("format", "pt");
            metadata.put("quantization", type.name().toLowerCase(Locale.ROOT));
            metadata.put("quantized_tensors", Integer.toString(quantized));
            SafetensorsWriter.writeDeferred(tmp.resolve("model.safetensors"), tensors, metadata);
        }
        List<String> copied = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(modelDir)) {
            for (Path p : files) {
                String name = p.getFileName().toString();
                if (!Files.isRegularFile(p) || weightFiles.contains(p.toAbsolutePath().normalize())
                        || isWeightIndex(name) || name.equals("model.safetensors")
                        || p.toAbsolutePath().normalize().startsWith(out)) {
                    continue;
                }
                Files.copy(p, tmp.resolve(name), StandardCopyOption.COPY_ATTRIBUTES);
                copied.add(name);
            }
        }
        copied.sort(null);
        return new Result(out, type, quantized, kept, sourceBytes, outBytes, copied, notBlockAligned);
    }

    private static Tensor quantizeWeight(Checkpoint ck, String name, DType type, java.lang.foreign.Arena arena) {
        try {
            return Quantize.quantize(ck.tensor(name), type, arena);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("weight '" + name + "': " + e.getMessage());
        }
    }

    private static void checkQuantisable(String name, TensorInfo info) {
        if (info.dtype().isBlockQuantized()) {
            throw new InvalidRequestException("weight '" + name + "' is already " + info.dtype()
                    + "; quantise from the 16- or 32-bit model");
        }
        if (info.dtype() != DType.F32 && info.dtype() != DType.BF16 && info.dtype() != DType.F16) {
            throw new InvalidRequestException("weight '" + name + "' is " + info.dtype() + "; expected F32, BF16 or F16");
        }
        if (info.shape().length != 2) {
            throw new InvalidRequestException("weight '" + name + "' has shape " + java.util.Arrays.toString(info.shape())
                    + "; a linear weight is [N, K]");
        }
    }

    private static boolean isWeightIndex(String name) {
        return name.endsWith(".safetensors.index.json") || name.endsWith(".bin.index.json");
    }

    private static boolean isEmptyDirectory(Path p) {
        if (!Files.isDirectory(p)) {
            return false;
        }
        try (Stream<Path> s = Files.list(p)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }
}
