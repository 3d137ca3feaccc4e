package osprey4j.core.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import osprey4j.core.tensor.Tensor;

/**
 * A Hugging Face sharded checkpoint: an {@code *.index.json} whose {@code weight_map} maps each tensor name to
 * the shard file (safetensors or torch) that holds it, relative to the index's directory.
 *
 * <p>The index is the source of truth for names: exactly the keys of {@code weight_map} are exposed, each
 * must exist in its shard, and shard names must stay inside the directory (no absolute paths, no
 * {@code ..}). All shards are opened (mapped, headers parsed) up front, so a missing or broken shard is
 * reported at open time rather than half-way through loading a model.
 */
final class ShardedCheckpoint extends AbstractCheckpoint {
    private static final long MAX_INDEX_BYTES = 100_000_000L;

    private final Map<Path, Checkpoint> shards;
    private final Map<String, Checkpoint> owner;

    private ShardedCheckpoint(Path index, List<TensorInfo> infos, Map<String, String> metadata,
                              Map<Path, Checkpoint> shards, Map<String, Checkpoint> owner) {
        super(index.toString(), infos, metadata);
        this.shards = shards;
        this.owner = owner;
    }

    static ShardedCheckpoint open(Path index) {
        JsonNode root = readIndex(index);
        JsonNode weightMap = root.get("weight_map");
        if (weightMap == null || !weightMap.isObject() || weightMap.isEmpty()) {
            throw new CheckpointException(index + ": the index has no weight_map object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode meta = root.get("metadata");
        if (meta != null && meta.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getValue().isValueNode()) {
                    metadata.put(e.getKey(), e.getValue().asText());
                }
            }
        }
        Path dir = index.toAbsolutePath().normalize().getParent();
        Map<String, Path> fileOf = new LinkedHashMap<>();
        Map<String, Path> checkedNames = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(index + ": weight_map entry for '" + e.getKey() + "' is not a file name");
            }
            String shardName = e.getValue().textValue();
            Path shard = checkedNames.get(shardName);
            if (shard == null) {
                shard = shardPath(index, dir, shardName);
                checkedNames.put(shardName, shard);
            }
            fileOf.put(e.getKey(), shard);
        }

        Map<Path, Checkpoint> shards = new LinkedHashMap<>();
        try {
            for (Path shard : checkedNames.values()) {
                if (!shards.containsKey(shard)) {
                    shards.put(shard, Checkpoints.openSingleFile(shard));
                }
            }
            List<TensorInfo> infos = new ArrayList<>(fileOf.size());
            Map<String, Checkpoint> owner = new LinkedHashMap<>();
            for (Map.Entry<String, Path> e : fileOf.entrySet()) {
                Checkpoint shard = shards.get(e.getValue());
                if (!shard.contains(e.getKey())) {
                    throw new CheckpointException(index + ": the index puts '" + e.getKey() + "' in "
                            + e.getValue().getFileName() + ", which has no such tensor");
                }
                TensorInfo t = shard.info(e.getKey());
                infos.add(new TensorInfo(t.name(), t.dtype(), t.shape(), e.getValue()));
                owner.put(e.getKey(), shard);
            }
            return new ShardedCheckpoint(index, infos, metadata, shards, owner);
        } catch (RuntimeException e) {
            shards.values().forEach(Checkpoint::close);
            throw e;
        }
    }

    private static JsonNode readIndex(Path index) {
        try {
            long size = Files.size(index);
            if (size > MAX_INDEX_BYTES) {
                throw new CheckpointException(index + ": an index file of " + size + " bytes is implausibly large");
            }
            JsonNode root = SafetensorsCheckpoint.JSON.readTree(Files.readAllBytes(index));
            if (root == null || !root.isObject()) {
                throw new CheckpointException(index + ": the index is not a JSON object");
            }
            return root;
        } catch (IOException e) {
            throw new CheckpointException(index + ": cannot read the index ("
                    + SafetensorsCheckpoint.firstLine(e.getMessage()) + ")", e);
        }
    }

    /** Resolves a shard name, refusing names that leave the index's directory. */
    private static Path shardPath(Path index, Path dir, String name) {
        Path shard;
        try {
            Path relative = Path.of(name);
            shard = dir.resolve(relative).normalize();
            if (name.isEmpty() || relative.isAbsolute() || !shard.startsWith(dir) || shard.equals(dir)) {
                throw new CheckpointException(index + ": shard file name '" + TorchUnpickler.printable(name)
                        + "' points outside the checkpoint directory");
            }
        } catch (java.nio.file.InvalidPathException e) {
            throw new CheckpointException(index + ": invalid shard file name '" + TorchUnpickler.printable(name) + "'");
        }
        if (!Files.isRegularFile(shard, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(shard)) {
            throw new CheckpointException(index + ": shard " + name + " is missing");
        }
        return shard;
    }

    @Override
    Tensor load(TensorInfo info) {
        return owner.get(info.name()).tensor(info.name());
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (Checkpoint c : shards.values()) {
            try {
                c.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
