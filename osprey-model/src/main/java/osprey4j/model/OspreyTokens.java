package osprey4j.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import osprey4j.core.prompt.Preambles;
import osprey4j.core.prompt.RegionPrompt;
import osprey4j.model.tokenizer.Tokenizer;

/**
 * What Osprey adds to the LLaMA tokenizer: the region tokens {@code <mask>} and {@code <pos>}, which the reference
 * adds after loading ({@code add_tokens(['<mask>', '<pos>'], special_tokens=True)}), and the {@code <image>}
 * placeholder of its prompts, which is never tokenised but split out and replaced by {@link #IMAGE_TOKEN_ID}
 * ({@code tokenizer_image_token}).
 */
public final class OspreyTokens {
    /** What the reference puts in place of {@code <image>} in the ids; the image embeddings go there. */
    public static final int IMAGE_TOKEN_ID = -200;
    /** The prompt conventions' image placeholder ({@link Preambles#IMAGE_TOKEN}). */
    public static final String IMAGE_PLACEHOLDER = Preambles.IMAGE_TOKEN;
    /** The tokens Osprey adds, in the order it adds them (ids 32000 and 32001 on LLaMA's vocabulary). */
    public static final List<String> REGION_TOKENS = List.of(RegionPrompt.MASK_TOKEN, RegionPrompt.POS_TOKEN);

    private OspreyTokens() {
    }

    /** The tokenizer of a checkpoint directory with Osprey's region tokens added, as the reference loads it. */
    public static Tokenizer loadTokenizer(Path dir, Tokenizer.Mode mode) {
        return Tokenizer.load(dir, mode, REGION_TOKENS);
    }

    /**
     * The ids of a multimodal prompt as the reference's {@code tokenizer_image_token} makes them: the prompt is
     * split at {@code <image>}, each chunk encoded on its own, the chunks joined with {@link #IMAGE_TOKEN_ID}, and
     * only the first chunk keeps its BOS.
     */
    public static int[] encodePrompt(Tokenizer tokenizer, String prompt) {
        List<int[]> chunks = new ArrayList<>();
        for (String chunk : splitLikePython(prompt, IMAGE_PLACEHOLDER)) {
            chunks.add(tokenizer.encode(chunk, true));
        }
        int total = 0;
        for (int[] c : chunks) {
            total += c.length + 1;
        }
        int[] out = new int[total];
        int n = 0;
        int offset = 0;
        if (!chunks.isEmpty() && chunks.get(0).length > 0 && chunks.get(0)[0] == tokenizer.bosId()) {
            offset = 1;
            out[n++] = chunks.get(0)[0];
        }
        for (int c = 0; c < chunks.size(); c++) {
            if (c > 0) {
                // The separator is [IMAGE] * (offset + 1) with its first `offset` entries dropped.
                out[n++] = IMAGE_TOKEN_ID;
            }
            int[] ids = chunks.get(c);
            for (int i = offset; i < ids.length; i++) {
                out[n++] = ids[i];
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** The piece strings of prompt ids, {@code <image>} for {@link #IMAGE_TOKEN_ID}. */
    public static List<String> pieces(Tokenizer tokenizer, int[] ids) {
        List<String> out = new ArrayList<>(ids.length);
        for (int id : ids) {
            out.add(id == IMAGE_TOKEN_ID ? IMAGE_PLACEHOLDER : tokenizer.piece(id));
        }
        return out;
    }

    /** Python's {@code str.split(sep)}: n separators give n + 1 parts, empty ones included. */
    static List<String> splitLikePython(String s, String sep) {
        List<String> parts = new ArrayList<>();
        int from = 0;
        for (int at = s.indexOf(sep); at >= 0; at = s.indexOf(sep, from)) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }
}
