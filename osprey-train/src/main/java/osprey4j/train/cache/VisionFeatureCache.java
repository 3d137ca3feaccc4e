package osprey4j.train.cache;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.ImageSession;
import osprey4j.model.Osprey;
import osprey4j.model.image.RgbImage;
import osprey4j.model.vision.ConvNextTower;

/**
 * The frozen ConvNeXt tower's output per training image, computed once and kept on disk. Training never
 * back-propagates into the tower, so what the trainable parts read from it is fixed: res2..res5 for the mask
 * extractor's pooling, and res4, which the projector turns into image tokens ({@code Projector.flattenToTokens}).
 * The stem map is not kept (nothing trainable reads it).
 *
 * <p><b>Keys.</b> An entry is named by SHA-256 of (the image file's SHA-256, the tower's {@link TowerIdentity},
 * the preprocessing size), so renaming an image keeps its entry, and changing a pixel, the tower weights or the
 * image size makes a new one. Each entry is one safetensors file ({@code res2..res5}, F32 unless a 16-bit type
 * was chosen, and the metadata
 * {@code image_sha256}, {@code tower}, {@code image_size}, {@code width}, {@code height}) under
 * {@code DIR/xy/KEY.safetensors}.
 *
 * <p><b>Budget.</b> The entries' total size is kept at or under {@code maxBytes} by removing the least recently
 * used ones (the last use is the file's modification time, refreshed on every hit, so it persists across runs).
 * An entry larger than the whole budget is still returned but not kept.
 *
 * <p><b>Crashes.</b> Entries are written to a temporary sibling and renamed ({@code AtomicFiles}), so a crash
 * leaves either no entry or a whole one; temporary files of processes that no longer run are removed when a cache
 * is opened. An entry that cannot be read, or whose metadata or shapes do not match its key, is removed and
 * recomputed (counted in {@link Stats#damaged}).
 *
 * <p>Thread-safe; several processes may share a directory (each keeps its own view of the total size).
 */
public final class VisionFeatureCache {
    private static final String SUFFIX = ".safetensors";
    private static final Pattern TEMPORARY = Pattern.compile("^\\..*\\.(\\d+)-\\d+\\.part$");
    private static final String[] LEVELS = {"res2", "res3", "res4", "res5"};

    /** What the trainable parts need from the tower for one image. Tensors are F32 [C, H, W], in memory. */
    public record Features(Tensor res2, Tensor res3, Tensor res4, Tensor res5, int imageWidth, int imageHeight) {
        public Features {
            Objects.requireNonNull(res2, "res2");
            Objects.requireNonNull(res3, "res3");
            Objects.requireNonNull(res4, "res4");
            Objects.requireNonNull(res5, "res5");
        }

        /** res2..res5, in the order the mask extractor uses them. */
        public List<Tensor> levels() {
            return List.of(res2, res3, res4, res5);
        }

        /** From the tower's output for an image of the given size. */
        public static Features of(ConvNextTower.Features f, int imageWidth, int imageHeight) {
            return new Features(f.res2(), f.res3(), f.res4(), f.res5(), imageWidth, imageHeight);
        }
    }

    /** Computes an image's features on a miss. */
    @FunctionalInterface
    public interface Encoder {
        Features encode(Path imageFile) throws IOException;
    }

    /** Counters since this cache was opened. */
    public record Stats(long hits, long misses, long damaged, long evicted, long entries, long bytes) {
    }

    private record Entry(Path file, long bytes, long lastUse) {
    }

    private final Path dir;
    private final long maxBytes;
    private final String tower;
    private final int imageSize;
    private final DType stored;
    private final Map<String, Entry> entries = new HashMap<>();
    private long totalBytes;
    private long hits;
    private long misses;
    private long damaged;
    private long evicted;

    /**
     * Opens (creating if needed) the cache in {@code dir}.
     *
     * @param maxBytes  the size budget of all entries together
     * @param tower     the tower's identity ({@link TowerIdentity#of})
     * @param imageSize the preprocessing size the features were computed at (512 for Osprey)
     */
    public VisionFeatureCache(Path dir, long maxBytes, String tower, int imageSize) {
        this(dir, maxBytes, tower, imageSize, DType.F32);
    }

    /**
     * As {@link #VisionFeatureCache(Path, long, String, int)}, storing the maps as {@code stored} (F32, BF16 or
     * F16; the 16-bit types halve the disk use, at the rounding the reference's half-precision tower deployment
     * has anyway). Maps are returned as F32 either way; the stored type is part of the key.
     */
    public VisionFeatureCache(Path dir, long maxBytes, String tower, int imageSize, DType stored) {
        if (stored != DType.F32 && stored != DType.BF16 && stored != DType.F16) {
            throw new IllegalArgumentException("feature maps can be stored as F32, BF16 or F16, not " + stored);
        }
        this.stored = stored;
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("the feature cache budget must be positive, got " + maxBytes);
        }
        this.dir = Objects.requireNonNull(dir, "dir");
        this.maxBytes = maxBytes;
        this.tower = Objects.requireNonNull(tower, "tower");
        this.imageSize = imageSize;
        try {
            Files.createDirectories(dir);
            scan();
        } catch (IOException e) {
            throw new UncheckedIOException("feature cache " + dir + ": " + e.getMessage(), e);
        }
        evictOver(null);
    }

    /** An encoder running the model's tower (and, as {@link Osprey#encode} does, its projector) on the image. */
    public static Encoder encoderFor(Osprey osprey) {
        return file -> {
            RgbImage image = RgbImage.read(file);
            ImageSession session = osprey.encode(image);
            return Features.of(session.features(), image.width(), image.height());
        };
    }

    /** The features of {@code imageFile}: from the cache, or computed by {@code encoder} and stored. */
    public Features get(Path imageFile, Encoder encoder) throws IOException {
        String imageSha = sha256(imageFile);
        String key = key(imageSha);
        Features cached = read(key);
        if (cached != null) {
            return cached;
        }
        Features computed = encoder.encode(imageFile);
        store(key, imageSha, computed);
        if (stored == DType.F32) {
            return computed;
        }
        // What a later hit will return: the maps rounded to the stored type, so every run sees the same values.
        List<Tensor> r = computed.levels().stream().map(t -> t.to(stored).to(DType.F32)).toList();
        return new Features(r.get(0), r.get(1), r.get(2), r.get(3), computed.imageWidth(), computed.imageHeight());
    }

    /** The entry's key for an image whose file has the given SHA-256. */
    public String key(String imageSha256) {
        var sha = TowerIdentity.sha256();
        sha.update((imageSha256 + "\0" + tower + "\0" + imageSize + (stored == DType.F32 ? "" : "\0" + stored))
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return java.util.HexFormat.of().formatHex(sha.digest());
    }

    public synchronized Stats stats() {
        return new Stats(hits, misses, damaged, evicted, entries.size(), totalBytes);
    }

    private Path fileOf(String key) {
        return dir.resolve(key.substring(0, 2)).resolve(key + SUFFIX);
    }

    private synchronized Features read(String key) {
        Path file = fileOf(key);
        if (!Files.isRegularFile(file)) {
            forget(key);
            misses++;
            return null;
        }
        try (Checkpoint c = Checkpoints.open(file)) {
            Map<String, String> meta = c.metadata();
            if (!tower.equals(meta.get("tower")) || !String.valueOf(imageSize).equals(meta.get("image_size"))) {
                throw new CheckpointException("metadata does not match the key");
            }
            Tensor[] levels = new Tensor[4];
            for (int i = 0; i < 4; i++) {
                Tensor t = c.tensor(LEVELS[i]);
                if (t.dtype() != stored || t.rank() != 3) {
                    throw new CheckpointException(LEVELS[i] + " is not a " + stored + " [C, H, W] map");
                }
                levels[i] = t.to(DType.F32);
            }
            Features f = new Features(levels[0], levels[1], levels[2], levels[3],
                    Integer.parseInt(meta.get("width")), Integer.parseInt(meta.get("height")));
            long now = System.currentTimeMillis();
            touch(file, now);
            entries.put(key, new Entry(file, Files.size(file), now));
            hits++;
            return f;
        } catch (IOException | RuntimeException e) {
            // A damaged entry (truncated, overwritten, from another writer's bug): drop it and recompute.
            damaged++;
            misses++;
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // the rewrite will replace it
            }
            forget(key);
            return null;
        }
    }

    private synchronized void store(String key, String imageSha, Features f) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        List<Tensor> levels = f.levels();
        for (int i = 0; i < 4; i++) {
            Tensor t = levels.get(i);
            tensors.put(LEVELS[i], t.dtype() == stored ? t : t.to(stored));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("image_sha256", imageSha);
        meta.put("tower", tower);
        meta.put("image_size", String.valueOf(imageSize));
        meta.put("width", String.valueOf(f.imageWidth()));
        meta.put("height", String.valueOf(f.imageHeight()));
        Path file = fileOf(key);
        Files.createDirectories(file.getParent());
        SafetensorsWriter.write(file, tensors, meta);
        forget(key);
        long now = System.currentTimeMillis();
        touch(file, now);
        Entry e = new Entry(file, Files.size(file), now);
        entries.put(key, e);
        totalBytes += e.bytes();
        evictOver(key);
        if (e.bytes() > maxBytes) {
            remove(key); // larger than the whole budget: returned, not kept
        }
    }

    /** Removes least recently used entries (never {@code keep}) until the total fits the budget. */
    private synchronized void evictOver(String keep) {
        if (totalBytes <= maxBytes) {
            return;
        }
        List<Map.Entry<String, Entry>> byAge = new ArrayList<>(entries.entrySet());
        byAge.sort(Comparator.comparingLong(e -> e.getValue().lastUse()));
        for (Map.Entry<String, Entry> e : byAge) {
            if (totalBytes <= maxBytes) {
                break;
            }
            if (!e.getKey().equals(keep)) {
                remove(e.getKey());
                evicted++;
            }
        }
    }

    private void remove(String key) {
        Entry e = entries.get(key);
        if (e == null) {
            return;
        }
        try {
            Files.deleteIfExists(e.file());
        } catch (IOException ignored) {
            // another process may have removed it; it is forgotten either way
        }
        forget(key);
    }

    private void forget(String key) {
        Entry old = entries.remove(key);
        if (old != null) {
            totalBytes -= old.bytes();
        }
    }

    private static void touch(Path file, long millis) {
        try {
            Files.setLastModifiedTime(file, FileTime.fromMillis(millis));
        } catch (IOException ignored) {
            // the order of eviction is a heuristic; a failed touch only makes this entry look older
        }
    }

    /** Lists the entries on disk and removes temporary files left by processes that no longer run. */
    private void scan() throws IOException {
        try (DirectoryStream<Path> shards = Files.newDirectoryStream(dir)) {
            for (Path shard : shards) {
                if (!Files.isDirectory(shard)) {
                    continue;
                }
                try (DirectoryStream<Path> files = Files.newDirectoryStream(shard)) {
                    for (Path file : files) {
                        String name = file.getFileName().toString();
                        Matcher tmp = TEMPORARY.matcher(name);
                        if (tmp.matches()) {
                            long pid = Long.parseLong(tmp.group(1));
                            if (ProcessHandle.of(pid).isEmpty()) {
                                Files.deleteIfExists(file);
                            }
                        } else if (name.endsWith(SUFFIX)) {
                            try {
                                long size = Files.size(file);
                                String key = name.substring(0, name.length() - SUFFIX.length());
                                entries.put(key, new Entry(file, size, Files.getLastModifiedTime(file).toMillis()));
                                totalBytes += size;
                            } catch (NoSuchFileException gone) {
                                // removed by another process meanwhile
                            }
                        }
                    }
                }
            }
        }
    }

    /** SHA-256 of a file's bytes, as 64 hex digits. */
    public static String sha256(Path file) throws IOException {
        var sha = TowerIdentity.sha256();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
            }
        }
        return java.util.HexFormat.of().formatHex(sha.digest());
    }
}
