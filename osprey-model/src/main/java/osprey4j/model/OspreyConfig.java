package osprey4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;

/**
 * The multimodal part of an Osprey checkpoint's {@code config.json} (the LLaMA part is read by
 * {@code LlamaConfig}), and where the separate CLIP weights named by {@code mm_vision_tower} are.
 *
 * @param json             the whole {@code config.json}
 * @param visionTower      {@code mm_vision_tower}: path of the open_clip ConvNeXt weights, or null
 * @param projectorType    {@code mm_projector_type} ({@code mlp2x_gelu} for Osprey; {@code linear} when absent,
 *                         as the reference's builder defaults)
 * @param imageSize        side of the square the image is resized to; the reference hard-codes 512
 *                         ({@code CLIPVisionTower(img_size=512)}), a config may say otherwise with
 *                         {@code mm_image_size} or {@code image_size}
 * @param eosId            the end-of-sequence id generation stops at ({@code generation_config.json}, else
 *                         {@code config.json}), or -1 to take the tokenizer's
 */
public record OspreyConfig(JsonNode json, String visionTower, String projectorType, int imageSize, int eosId) {
    public static final int REFERENCE_IMAGE_SIZE = 512;

    /** Reads {@code dir/config.json} (and {@code generation_config.json} when present). */
    public static OspreyConfig read(Path dir) {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(dir + " has no config.json (not a Hugging Face model directory)");
        }
        ObjectMapper mapper = new ObjectMapper();
        JsonNode json;
        JsonNode generation = null;
        try {
            json = mapper.readTree(file.toFile());
            Path gen = dir.resolve("generation_config.json");
            if (Files.isRegularFile(gen)) {
                generation = mapper.readTree(gen.toFile());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (json == null || !json.isObject()) {
            throw new IllegalArgumentException(file + " is not a JSON object");
        }
        String tower = text(json, "mm_vision_tower");
        if (tower == null) {
            tower = text(json, "vision_tower");
        }
        String projector = text(json, "mm_projector_type");
        int size = REFERENCE_IMAGE_SIZE;
        for (String key : List.of("mm_image_size", "image_size")) {
            if (json.path(key).canConvertToInt() && json.path(key).asInt() > 0) {
                size = json.path(key).asInt();
                break;
            }
        }
        int eos = -1;
        if (generation != null && generation.path("eos_token_id").canConvertToInt()) {
            eos = generation.path("eos_token_id").asInt();
        } else if (json.path("eos_token_id").canConvertToInt()) {
            eos = json.path("eos_token_id").asInt();
        }
        return new OspreyConfig(json, tower, projector == null ? "linear" : projector, size, eos);
    }

    /**
     * The CLIP weights file named by {@code mm_vision_tower}, looked for as written (absolute, or relative to the
     * working directory, which is what the reference's {@code torch.load} does), then relative to the model
     * directory, then by its file name in the model directory. Empty when the config names none or no candidate
     * exists.
     */
    public Optional<Path> findVisionTowerFile(Path modelDir) {
        return visionTowerCandidates(modelDir).stream().filter(Files::isRegularFile).findFirst();
    }

    /** The places {@link #findVisionTowerFile} looks, in order (for error messages). */
    public List<Path> visionTowerCandidates(Path modelDir) {
        if (visionTower == null || visionTower.isBlank()) {
            return List.of();
        }
        LinkedHashSet<Path> candidates = new LinkedHashSet<>();
        Path named;
        try {
            named = Path.of(expandHome(visionTower));
        } catch (java.nio.file.InvalidPathException e) {
            return List.of();
        }
        candidates.add(named.toAbsolutePath().normalize());
        if (!named.isAbsolute()) {
            candidates.add(modelDir.resolve(named).toAbsolutePath().normalize());
        }
        if (named.getFileName() != null) {
            candidates.add(modelDir.resolve(named.getFileName()).toAbsolutePath().normalize());
        }
        return new ArrayList<>(candidates);
    }

    private static String expandHome(String p) {
        if (p.equals("~") || p.startsWith("~/")) {
            return System.getProperty("user.home") + p.substring(1);
        }
        return p;
    }

    private static String text(JsonNode json, String key) {
        JsonNode v = json.get(key);
        return v == null || v.isNull() || !v.isTextual() ? null : v.asText();
    }
}
