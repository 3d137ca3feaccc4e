package osprey4j.train.data;

import osprey4j.data.datasets.Turn;
import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The reference's text preprocessing for training ({@code osprey/train/train.py}), step for step:
 * {@link #multimodal} is {@code preprocess_multimodal} and {@link #preprocess} is {@code preprocess_v1} for one
 * conversation, the way every Osprey dataset class calls them.
 *
 * <p>What {@code preprocess_v1} does, and therefore what this class does, including its quirks:
 * <ul>
 *   <li>The prompt is {@link Conversation#prompt}. With an image ({@code has_image=True}, what every Osprey
 *       dataset passes) it is tokenised by {@code tokenizer_image_token}: split at {@code <image>}, chunks encoded
 *       with BOS, joined by {@link Tokenizer#IMAGE_TOKEN_ID}, <em>not truncated</em> (the tokenizer is called
 *       without {@code truncation}). Without an image the whole prompt is tokenised with
 *       {@code truncation=True, max_length=model_max_length}: BOS plus the first {@code model_max_length - 1}
 *       tokens.</li>
 *   <li>Labels start as a copy of the ids. Position 0 (BOS) is ignored. The prompt is split at {@code sep2}
 *       ({@code </s>}) into rounds; a round that is empty, or that does not split at {@code " ASSISTANT: "} into
 *       exactly two parts, ends the loop. Each round's length is the token count of the round encoded on its own
 *       (with its own BOS, which stands in for the {@code </s>} the split removed), and its instruction
 *       ({@code parts[0] + sep}) is that count minus 2 (BOS, and the lone {@code "▁"} of the trailing space);
 *       those instruction positions are ignored and the cursor moves on by the round length. Everything after
 *       the cursor is ignored.</li>
 *   <li>If the cursor is below {@code model_max_length} and differs from the number of ids that are not the pad
 *       id (the reference pads with {@code <unk>}, so a literal {@code <unk>} in the text is not counted), the
 *       reference prints "tokenization mismatch" and ignores the whole sample: every label is
 *       {@link #IGNORE_INDEX}.</li>
 * </ul>
 * Slices follow Python's rules (clipped at the end, empty when reversed).
 */
public final class Preprocessor {
    /** {@code IGNORE_INDEX}: labels the loss skips. */
    public static final int IGNORE_INDEX = -100;
    /** {@code DEFAULT_IMAGE_TOKEN}. */
    public static final String IMAGE_TOKEN = OspreyTokens.IMAGE_PLACEHOLDER;

    private final Tokenizer tokenizer;
    private final Conversation conversation;
    private final int modelMaxLength;
    private final boolean hasImage;
    private final int padId;

    /**
     * @param tokenizer      the model's tokenizer with {@code <mask>}/{@code <pos>} added (fast mode, as the
     *                       reference loads it with {@code use_fast=True})
     * @param conversation   the template ({@link Conversation#VICUNA_V1} for the reference's {@code --version v1})
     * @param modelMaxLength {@code --model_max_length} (2048 in the official scripts)
     * @param hasImage       the reference's {@code has_image} (true for every Osprey dataset)
     */
    public Preprocessor(Tokenizer tokenizer, Conversation conversation, int modelMaxLength, boolean hasImage) {
        this.tokenizer = Objects.requireNonNull(tokenizer);
        this.conversation = Objects.requireNonNull(conversation);
        if (modelMaxLength < 1) {
            throw new IllegalArgumentException("model_max_length must be positive, got " + modelMaxLength);
        }
        this.modelMaxLength = modelMaxLength;
        this.hasImage = hasImage;
        this.padId = padId(tokenizer);
    }

    /** The reference's pad id: {@code tokenizer.pad_token = tokenizer.unk_token} for v1 training. */
    public static int padId(Tokenizer tokenizer) {
        return tokenizer.tokenId("<unk>").orElseThrow(
                () -> new IllegalArgumentException("the tokenizer has no <unk> token to pad with"));
    }

    public int padId() {
        return padId;
    }

    public int modelMaxLength() {
        return modelMaxLength;
    }

    /** Ids and labels of one conversation, and whether the reference's mismatch rule ignored all of it. */
    public record Tokenized(int[] inputIds, int[] labels, boolean mismatch) {
    }

    /**
     * {@code preprocess_multimodal} for one conversation (with {@code mm_use_im_start_end=False}, the official
     * setting): a turn that mentions {@code <image>} gets every occurrence removed, the rest stripped, and one
     * {@code <image>\n} put in front.
     */
    public static List<Turn> multimodal(List<Turn> source) {
        List<Turn> out = new ArrayList<>(source.size());
        for (Turn t : source) {
            String v = t.value();
            if (v.contains(IMAGE_TOKEN)) {
                v = pythonStrip(v.replace(IMAGE_TOKEN, ""));
                v = pythonStrip(IMAGE_TOKEN + "\n" + v);
            }
            out.add(new Turn(t.from(), v));
        }
        return out;
    }

    /** {@code preprocess_multimodal} then {@code preprocess_v1}, as the dataset classes call them. */
    public Tokenized preprocess(List<Turn> source) {
        return preprocessV1(multimodal(source));
    }

    /** {@code preprocess_v1} for one conversation (already through {@link #multimodal}). */
    public Tokenized preprocessV1(List<Turn> source) {
        String prompt = conversation.prompt(source);
        int[] ids = hasImage ? OspreyTokens.encodePrompt(tokenizer, prompt) : encodeTruncated(prompt);
        int[] target = ids.clone();
        int totalLen = 0;
        for (int id : target) {
            if (id != padId) {
                totalLen++;
            }
        }
        String sep = conversation.answerSeparator();
        int curLen = 1;
        fill(target, 0, curLen);
        for (String round : splitLikePython(prompt, conversation.sep2())) {
            if (round.isEmpty()) {
                break;
            }
            List<String> parts = splitLikePython(round, sep);
            if (parts.size() != 2) {
                break;
            }
            String instruction = parts.get(0) + sep;
            int roundLen = length(round);
            int instructionLen = length(instruction) - 2;
            fill(target, curLen, curLen + instructionLen);
            curLen += roundLen;
        }
        fill(target, curLen, Integer.MAX_VALUE);
        boolean mismatch = false;
        if (curLen < modelMaxLength && curLen != totalLen) {
            Arrays.fill(target, IGNORE_INDEX);
            mismatch = true;
        }
        return new Tokenized(ids, target, mismatch);
    }

    /** {@code len(tokenizer_image_token(s))} with an image, {@code len(tokenizer(s).input_ids)} without. */
    private int length(String s) {
        return hasImage ? OspreyTokens.encodePrompt(tokenizer, s).length : tokenizer.encode(s, true).length;
    }

    /**
     * {@code tokenizer(text, truncation=True, max_length=model_max_length).input_ids} for one text: the fast
     * tokenizer truncates the encoded text to {@code max_length} minus the special tokens it adds, then adds them.
     */
    int[] encodeTruncated(String text) {
        int[] full = tokenizer.encode(text, true);
        if (full.length <= modelMaxLength) {
            return full;
        }
        int[] content = tokenizer.encode(text, false);
        int specials = full.length - content.length;
        int prefix = prefixLength(full, content);
        if (modelMaxLength < specials) {
            throw new IllegalArgumentException("model_max_length " + modelMaxLength
                    + " leaves no room for the " + specials + " special tokens");
        }
        int keep = modelMaxLength - specials;
        int[] out = new int[modelMaxLength];
        System.arraycopy(full, 0, out, 0, prefix);
        System.arraycopy(content, 0, out, prefix, keep);
        System.arraycopy(full, prefix + content.length, out, prefix + keep, specials - prefix);
        return out;
    }

    /** Where {@code content} sits in {@code full} (the number of special tokens put before it). */
    private static int prefixLength(int[] full, int[] content) {
        for (int p = 0; p + content.length <= full.length; p++) {
            if (Arrays.equals(full, p, p + content.length, content, 0, content.length)) {
                return p;
            }
        }
        throw new IllegalStateException("the text's ids with special tokens do not contain its ids without them");
    }

    /** {@code target[start:stop] = IGNORE_INDEX} with Python's slice rules. */
    static void fill(int[] target, int start, int stop) {
        int n = target.length;
        int from = start < 0 ? Math.max(0, start + n) : Math.min(start, n);
        int to = stop < 0 ? Math.max(0, stop + n) : Math.min(stop, n);
        for (int i = from; i < to; i++) {
            target[i] = IGNORE_INDEX;
        }
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

    /** Python's {@code str.strip()}: its whitespace includes no-break spaces, U+0085 and U+001C..U+001F. */
    static String pythonStrip(String s) {
        int i = 0;
        while (i < s.length() && isPythonSpace(s.codePointAt(i))) {
            i += Character.charCount(s.codePointAt(i));
        }
        int j = s.length();
        while (j > i && isPythonSpace(s.codePointBefore(j))) {
            j -= Character.charCount(s.codePointBefore(j));
        }
        return s.substring(i, j);
    }

    static boolean isPythonSpace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }
}
