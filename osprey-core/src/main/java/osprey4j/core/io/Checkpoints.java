package osprey4j.core.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Opens checkpoints: a single file, whatever its extension (the format is told by its first bytes), or a
 * directory in the Hugging Face layout.
 */
public final class Checkpoints {
    /** Files a Hugging Face directory is searched for, in order of preference. */
    static final List<String> DIRECTORY_CANDIDATES = List.of(
            "model.safetensors.index.json", "pytorch_model.bin.index.json", "model.safetensors", "pytorch_model.bin");

    /** The pickle of torch's legacy magic number 0x1950a86a20f9469cfc6c, as LONG1 bytes (little-endian). */
    private static final byte[] LEGACY_MAGIC = {
            0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};

    private Checkpoints() {
    }

    /**
     * Opens {@code path}: a {@code .safetensors} file, a {@code torch.save} zip ({@code .bin}, {@code .pt},
     * {@code .pth}...), a sharded {@code *.index.json}, or a directory holding (first match wins)
     * {@code model.safetensors.index.json}, {@code pytorch_model.bin.index.json}, {@code model.safetensors},
     * {@code pytorch_model.bin}, or a single {@code *.safetensors} or {@code *.bin}/{@code *.pt}/{@code *.pth}.
     *
     * @throws CheckpointException if nothing usable is there or the file is malformed
     */
    public static Checkpoint open(Path path) {
        if (Files.isDirectory(path)) {
            return openFile(findInDirectory(path));
        }
        if (!Files.exists(path)) {
            throw new CheckpointException(path + ": no such file or directory");
        }
        return openFile(path);
    }

    /** The checkpoint file (or index) a Hugging Face directory holds. */
    public static Path findInDirectory(Path dir) {
        for (String name : DIRECTORY_CANDIDATES) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        List<Path> safetensors = new ArrayList<>();
        List<Path> torch = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path p : files) {
                String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
                if (!Files.isRegularFile(p)) {
                    continue;
                }
                if (name.endsWith(".safetensors")) {
                    safetensors.add(p);
                } else if (name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth")) {
                    torch.add(p);
                }
            }
        } catch (IOException e) {
            throw new CheckpointException(dir + ": cannot list the directory (" + e.getMessage() + ")", e);
        }
        List<Path> found = !safetensors.isEmpty() ? safetensors : torch;
        if (found.size() == 1) {
            return found.get(0);
        }
        if (found.isEmpty()) {
            throw new CheckpointException(dir + ": no checkpoint found (looked for " + String.join(", ",
                    DIRECTORY_CANDIDATES) + ", or a single *.safetensors, *.bin, *.pt or *.pth file)");
        }
        found.sort(null);
        throw new CheckpointException(dir + ": several checkpoint files and no index to tie them together ("
                + found.stream().map(p -> p.getFileName().toString()).toList() + "); pass one file");
    }

    /** Opens one file: a sharded index by its name, anything else by its content. */
    static Checkpoint openFile(Path file) {
        if (file.getFileName().toString().endsWith(".index.json")) {
            return ShardedCheckpoint.open(file);
        }
        return openSingleFile(file);
    }

    /** Opens a safetensors or torch file by its content (shards of an index go through here: no nesting). */
    static Checkpoint openSingleFile(Path file) {
        byte[] head = readHead(file, 16);
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K') {
            return TorchCheckpoint.open(file);
        }
        if (isLegacyTorch(head)) {
            throw new CheckpointException(file + ": a PyTorch file in the legacy (pre-1.6) format, which is not "
                    + "supported; re-save it in the zip format: in Python, torch.save(torch.load(path), new_path) "
                    + "with torch 1.6 or later");
        }
        if (head.length >= 9 && head[8] == '{') {
            return SafetensorsCheckpoint.open(file);
        }
        if (head.length == 0) {
            throw new CheckpointException(file + ": the file is empty");
        }
        throw new CheckpointException(file + ": not a checkpoint (neither safetensors nor a torch.save zip archive)");
    }

    private static boolean isLegacyTorch(byte[] head) {
        if (head.length < 2 + LEGACY_MAGIC.length || (head[0] & 0xFF) != 0x80) {
            return false;
        }
        outer:
        for (int start = 2; start + LEGACY_MAGIC.length <= head.length; start++) {
            for (int i = 0; i < LEGACY_MAGIC.length; i++) {
                if (head[start + i] != LEGACY_MAGIC[i]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static byte[] readHead(Path file, int n) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(n);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read the file (" + e.getMessage() + ")", e);
        }
    }
}
