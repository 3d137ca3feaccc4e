package osprey4j.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.mask.Mask;
import osprey4j.core.prompt.ChatTemplate;
import osprey4j.core.prompt.ConversationPrompt;
import osprey4j.core.prompt.QuestionPrompt;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.image.ImageProcessor;
import osprey4j.model.image.RgbImage;
import osprey4j.model.llm.KvCache;
import osprey4j.model.llm.Llama;
import osprey4j.model.llm.LlamaConfig;
import osprey4j.model.tokenizer.Tokenizer;
import osprey4j.model.vision.ConvNextTower;
import osprey4j.model.vision.MaskExtractor;
import osprey4j.model.vision.Projector;

/**
 * Osprey: questions about regions of an image, answered by a LLaMA that sees the image and each region.
 *
 * <pre>{@code
 * try (Osprey osprey = Osprey.load(Path.of("Osprey-7b"))) {
 *     ImageSession image = osprey.encode(RgbImage.read(Path.of("photo.jpg")));   // once per image
 *     Answer a = osprey.ask(image, List.of(mask1, mask2),
 *             "What is the relationship between <region1> and <region2>?",
 *             GenerationOptions.reference(), (id, text) -> System.out.print(text));
 * }
 * }</pre>
 *
 * <p><b>Cost.</b> {@link #encode} runs the vision tower and projector once per image; every {@link #ask} about
 * that image reuses the session's features and image tokens, and pays only for its regions' tokens (mask
 * pooling and two small MLPs) and the LLM. Ask many questions of one session rather than re-encoding.
 *
 * <p><b>Loading.</b> {@link #load} reads a directory in the official Hugging Face layout; see
 * {@link #load(Path, Consumer)} for where each part comes from. Weights stay memory-mapped until
 * {@link #close}.
 *
 * <p><b>Threads.</b> Calls may overlap, from any threads, as long as each uses its own {@link ImageSession}: the
 * weights are only read, and every call makes its own KV cache and activation scratch. Questions about one session
 * may overlap too: the session's cached prompt prefix is an immutable snapshot that a question reads once and that
 * a finished prefill replaces whole (last writer wins, and any snapshot is a valid start).
 */
public final class Osprey implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Osprey.class.getName());

    private final Path dir;
    private final OspreyConfig config;
    private final LlamaConfig llamaConfig;
    private final Checkpoint weights;
    private final Checkpoint clipWeights;
    private final Tokenizer tokenizer;
    private final ChatTemplate template = ChatTemplate.OSPREY_V1;
    private final ImageProcessor processor;
    private final ConvNextTower tower;
    private final Projector projector;
    private final MaskExtractor maskExtractor;
    private final Llama llm;
    private final int maskId;
    private final StopCondition stopCondition;

    private Osprey(Path dir, OspreyConfig config, LlamaConfig llamaConfig, Checkpoint weights, Checkpoint clipWeights,
                   Tokenizer tokenizer, ImageProcessor processor, ConvNextTower tower, Projector projector,
                   MaskExtractor maskExtractor, Llama llm, int maskId, StopCondition stopCondition) {
        this.dir = dir;
        this.config = config;
        this.llamaConfig = llamaConfig;
        this.weights = weights;
        this.clipWeights = clipWeights;
        this.tokenizer = tokenizer;
        this.processor = processor;
        this.tower = tower;
        this.projector = projector;
        this.maskExtractor = maskExtractor;
        this.llm = llm;
        this.maskId = maskId;
        this.stopCondition = stopCondition;
    }

    /** {@link #load(Path, Consumer)} with warnings sent to the {@code System.Logger} of this class. */
    public static Osprey load(Path dir) {
        return load(dir, w -> LOG.log(System.Logger.Level.WARNING, w));
    }

    /**
     * Loads an Osprey checkpoint directory:
     * <ul>
     *   <li>{@code config.json}: the LLaMA configuration and the multimodal keys ({@code mm_vision_tower},
     *       {@code mm_projector_type});
     *   <li>the weights: {@code pytorch_model*.bin} or {@code *.safetensors}, single or sharded;
     *   <li>the ConvNeXt layer-scale gammas from the CLIP file named by {@code mm_vision_tower} (found as written,
     *       relative to the working directory as the reference does, or relative to the model directory), and
     *       every other vision weight from the Osprey weights: the reference's loading quirk. Without that file
     *       the gammas come from the Osprey weights (identical in Osprey's released checkpoints, where the tower
     *       was frozen) and warnings say so; the reference would fail to load;
     *   <li>the tokenizer ({@code tokenizer.json}, else {@code tokenizer.model}) plus {@code <mask>} and
     *       {@code <pos>}, with the fast tokenizer's behaviour the model was trained with.
     * </ul>
     *
     * @param warnings receives one line per thing about the directory that differs from what the reference would
     *                 do; the components log their own warnings (such as an empty mask) with
     *                 {@link System.Logger}
     * @throws IllegalArgumentException naming the file, key or shape when something is missing or does not fit
     */
    public static Osprey load(Path dir, Consumer<String> warnings) {
        Objects.requireNonNull(warnings, "warnings");
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("model directory not found: " + dir);
        }
        OspreyConfig config = OspreyConfig.read(dir);
        LlamaConfig llamaConfig = LlamaConfig.read(dir.resolve("config.json"));
        Checkpoint weights = Checkpoints.open(dir);
        Checkpoint clip = null;
        try {
            Optional<Path> clipFile = config.findVisionTowerFile(dir);
            if (clipFile.isPresent()) {
                clip = Checkpoints.open(clipFile.get());
            } else {
                warnings.accept(config.visionTower() == null
                        ? "config.json names no CLIP file (mm_vision_tower); the reference would fail to load here"
                        : "CLIP file '" + config.visionTower() + "' (mm_vision_tower) not found, looked at "
                                + config.visionTowerCandidates(dir) + "; the reference would fail to load here");
            }
            Tokenizer tokenizer = OspreyTokens.loadTokenizer(dir, Tokenizer.Mode.FAST);
            int maskId = tokenizer.tokenId("<mask>").orElseThrow();
            StopCondition stop = stopCondition(tokenizer, config);

            checkFits(weights, llamaConfig, tokenizer);
            ConvNextTower tower = ConvNextTower.load(weights, clip);
            Projector projector = Projector.load(weights, "model.mm_projector", config.projectorType());
            MaskExtractor maskExtractor = MaskExtractor.load(weights, "mask_extractor");
            Llama llm = Llama.load(weights, llamaConfig);
            ImageProcessor processor = new ImageProcessor(config.imageSize());
            return new Osprey(dir, config, llamaConfig, weights, clip, tokenizer, processor, tower, projector,
                    maskExtractor, llm, maskId, stop);
        } catch (RuntimeException e) {
            weights.close();
            if (clip != null) {
                clip.close();
            }
            throw e;
        }
    }

    /**
     * The reference's stop rule ({@link StopCondition#of}) with the end-of-sequence id {@code generate} uses:
     * {@code generation_config.json}'s, else {@code config.json}'s, else the tokenizer's.
     */
    private static StopCondition stopCondition(Tokenizer tokenizer, OspreyConfig config) {
        StopCondition reference = StopCondition.of(tokenizer, ChatTemplate.OSPREY_V1);
        if (config.eosId() < 0 || config.eosId() == tokenizer.eosId()) {
            return reference;
        }
        String stop = ChatTemplate.OSPREY_V1.stopString();
        int[] ids = tokenizer.encode(stop, true);
        if (ids.length > 1 && ids[0] == tokenizer.bosId()) {
            ids = Arrays.copyOfRange(ids, 1, ids.length);
        }
        return new StopCondition(config.eosId(), stop, ids, tokenizer::decode);
    }

    /**
     * Cross-part checks the parts cannot make alone: the projector and the mask extractor must produce vectors
     * of the LLM's width, and every id the tokenizer can produce (except {@code <mask>}/{@code <pos>}, which are
     * always replaced) must have an embedding row.
     */
    private static void checkFits(Checkpoint weights, LlamaConfig llama, Tokenizer tokenizer) {
        int hidden = llama.hiddenSize();
        expectDim(weights, "model.mm_projector.2.weight", 0, hidden, "the projector's output must be the LLM's "
                + "hidden size " + hidden);
        expectDim(weights, "mask_extractor.feat_linear.weight", 0, hidden, "mask tokens must be the LLM's hidden "
                + "size " + hidden);
        if (!weights.contains("model.embed_tokens.weight")) {
            throw new IllegalArgumentException("the weights have no model.embed_tokens.weight (expected shape ["
                    + llama.vocabSize() + ", " + hidden + "]); is this an Osprey/LLaMA checkpoint?");
        }
        long[] embedShape = weights.info("model.embed_tokens.weight").shape();
        long vocab = embedShape[0];
        for (Tokenizer.AddedToken t : tokenizer.addedTokens()) {
            if (t.id() >= vocab && !OspreyTokens.REGION_TOKENS.contains(t.content())) {
                throw new IllegalArgumentException("tokenizer token '" + t.content() + "' has id " + t.id()
                        + " but model.embed_tokens.weight has only " + vocab + " rows (shape "
                        + Arrays.toString(embedShape) + ")");
            }
        }
    }

    private static void expectDim(Checkpoint weights, String key, int dim, int expected, String why) {
        if (!weights.contains(key)) {
            return; // the part's own loader has already named what it needs
        }
        long[] shape = weights.info(key).shape();
        if (shape.length <= dim || shape[dim] != expected) {
            throw new IllegalArgumentException(key + " has shape " + Arrays.toString(shape) + ", expected dimension "
                    + dim + " to be " + expected + ": " + why);
        }
    }

    /** The model directory. */
    public Path directory() {
        return dir;
    }

    public OspreyConfig config() {
        return config;
    }

    public LlamaConfig llamaConfig() {
        return llamaConfig;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * Encodes an image: preprocess (shortest edge to the image size, normalise, squash to a square), the
     * ConvNeXt tower, and the projector on res4. Do this once per image and ask all questions of the session.
     */
    public ImageSession encode(RgbImage image) {
        long t0 = System.nanoTime();
        Tensor pixels = processor.preprocess(image);
        ConvNextTower.Features features = tower.forward(pixels);
        // The tower's weights are not needed again until the next image: their pages leave the resident set
        // (0.4 GB for Osprey-7B's fp16 ConvNeXt-Large, which would otherwise stay beside the LLM's weights and KV
        // cache) and come back from the page cache, without disk reads, at the next encode.
        tower.releaseMappedWeights();
        Tensor imageTokens = projector.forward(Projector.flattenToTokens(features.res4()));
        return new ImageSession(image.width(), image.height(), pixels, features, imageTokens, millisSince(t0));
    }

    /**
     * Everything the LLM is fed for one question, before it runs.
     *
     * @param prompt     the full prompt text (osprey_v1 template around the user message)
     * @param inputIds   its ids, {@link OspreyTokens#IMAGE_TOKEN_ID} where the image goes
     * @param maskTokens F32 [regions, hidden] in the order of the {@code <mask>} tokens, or null without regions
     * @param posTokens  F32 [regions, hidden], or null without regions
     * @param embeddings F32 [sequence, hidden], the LLM's input
     */
    public record PreparedPrompt(String prompt, int[] inputIds, Tensor maskTokens, Tensor posTokens,
                                 Tensor embeddings, double prepareMs) {
    }

    /**
     * Builds the LLM input for a question as the reference does. {@code <region1>}, {@code <region2>}... in the
     * question refer to {@code masks} in order and become {@code <mask><pos>}; a question may instead write
     * {@code <mask><pos>} itself, once per mask in order. The user message is
     * {@link osprey4j.core.prompt.Preambles#IMAGE} followed by the question, unless the question contains
     * {@code <image>}: then it is the whole message, verbatim.
     *
     * @param masks one mask per region, at the image's size ({@link #checkMasks}). An empty mask, or one too small
     *              to cover a pixel of any feature level, is accepted as the reference accepts it: its mask token
     *              is then made from zero features (the extractor's biases only), and {@link MaskExtractor} logs a
     *              warning saying so.
     * @throws IllegalArgumentException for a mask of another size, or a question whose region references do
     *                                  not match the masks
     */
    public PreparedPrompt prepare(ImageSession session, List<Mask> masks, String question) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(question, "question");
        long t0 = System.nanoTime();
        checkMasks(masks, session.width(), session.height());
        QuestionPrompt q = QuestionPrompt.of(template, question, masks.size());
        return assemble(session, masks, q.text(), q.maskOrder(), t0);
    }

    /** One region's mask and position tokens, F32 [1, hidden] each. */
    MaskExtractor.RegionTokens regionTokens(ImageSession session, Mask mask) {
        return maskExtractor.forward(session.features(), List.of(mask));
    }

    /**
     * {@link #prepare} for a whole conversation ({@link Chat}), from each region's tokens made alone
     * ({@link #regionTokens}): a region's tokens are then the same bits in every turn, whatever other regions the
     * turn has, so the cached positions before a new region stay valid.
     */
    PreparedPrompt prepare(ImageSession session, List<MaskExtractor.RegionTokens> regions,
                           ConversationPrompt.Built conversation) {
        long t0 = System.nanoTime();
        int[] order = conversation.maskOrder();
        int[] ids = OspreyTokens.encodePrompt(tokenizer, conversation.text());
        Tensor maskTokens = null;
        Tensor posTokens = null;
        if (order.length > 0) {
            int hidden = llamaConfig.hiddenSize();
            maskTokens = Tensor.zeros(DType.F32, order.length, hidden);
            posTokens = Tensor.zeros(DType.F32, order.length, hidden);
            long rowBytes = (long) hidden * Float.BYTES;
            for (int i = 0; i < order.length; i++) {
                MaskExtractor.RegionTokens r = regions.get(order[i]);
                java.lang.foreign.MemorySegment.copy(r.maskTokens().to(DType.F32).segment(), 0, maskTokens.segment(),
                        i * rowBytes, rowBytes);
                java.lang.foreign.MemorySegment.copy(r.posTokens().to(DType.F32).segment(), 0, posTokens.segment(),
                        i * rowBytes, rowBytes);
            }
        }
        Tensor embeddings = InputEmbeddings.assemble(ids, maskId, llm::embed, session.imageTokens(), maskTokens,
                posTokens);
        return new PreparedPrompt(conversation.text(), ids, maskTokens, posTokens, embeddings, millisSince(t0));
    }

    private PreparedPrompt assemble(ImageSession session, List<Mask> masks, String prompt, int[] maskOrder, long t0) {
        int[] ids = OspreyTokens.encodePrompt(tokenizer, prompt);
        Tensor maskTokens = null;
        Tensor posTokens = null;
        if (maskOrder.length > 0) {
            List<Mask> ordered = new ArrayList<>(maskOrder.length);
            for (int i : maskOrder) {
                ordered.add(masks.get(i));
            }
            MaskExtractor.RegionTokens regions = maskExtractor.forward(session.features(), ordered);
            maskTokens = regions.maskTokens();
            posTokens = regions.posTokens();
        }
        Tensor embeddings = InputEmbeddings.assemble(ids, maskId, llm::embed, session.imageTokens(), maskTokens,
                posTokens);
        return new PreparedPrompt(prompt, ids, maskTokens, posTokens, embeddings, millisSince(t0));
    }

    /**
     * The one check of region masks against their image: every mask must be {@code imageWidth x imageHeight}.
     * {@link #prepare} makes it; a caller may make it earlier (before loading the model) for the same message.
     * Masks are binary by construction, so their values need no check.
     *
     * @throws IllegalArgumentException naming the first mask (from 1) of another size
     */
    public static void checkMasks(List<Mask> masks, int imageWidth, int imageHeight) {
        Objects.requireNonNull(masks, "masks");
        for (int i = 0; i < masks.size(); i++) {
            checkMask(i + 1, masks.get(i), imageWidth, imageHeight);
        }
    }

    /** {@link #checkMasks} for one mask, region {@code number} (from 1) of a question. */
    public static void checkMask(int number, Mask mask, int imageWidth, int imageHeight) {
        Objects.requireNonNull(mask, "mask " + number);
        if (mask.width() != imageWidth || mask.height() != imageHeight) {
            throw new IllegalArgumentException("mask " + number + " is " + mask.width() + "x" + mask.height()
                    + " but the image is " + imageWidth + "x" + imageHeight + " (width x height); masks must have the"
                    + " image's size");
        }
    }

    /** The logits of the first generated position (a fresh KV cache, discarded afterwards). */
    public float[] firstLogits(PreparedPrompt prompt) {
        try (KvCache cache = llm.newCache(checkedLength(prompt))) {
            return llm.forward(prompt.embeddings(), cache);
        }
    }

    /** The prompt's sequence length, refused when the model's positions cannot hold it and one more token. */
    private int checkedLength(PreparedPrompt prompt) {
        int length = prompt.embeddings().size(0);
        int max = llamaConfig.maxPositionEmbeddings();
        if (length >= max) {
            throw new IllegalArgumentException("the prompt is " + length + " tokens long (the image counts "
                    + (length - prompt.inputIds().length + 1) + "), which leaves no room to answer within the model's "
                    + max + " positions (max_position_embeddings)");
        }
        return length;
    }

    /**
     * Answers one question about regions of an encoded image; see {@link #prepare} for the question and masks.
     * The answer is streamed to {@code listener} as it is generated and also returned whole.
     */
    public Answer ask(ImageSession session, List<Mask> masks, String question, GenerationOptions options,
                      TokenListener listener) {
        Objects.requireNonNull(options, "options");
        TokenListener sink = listener == null ? TokenListener.NONE : listener;
        PreparedPrompt prompt = prepare(session, masks, question);

        int length = checkedLength(prompt);
        // Generation also ends where the model's positions end (the reference would run past them, extending
        // rotary tables the model was never trained on).
        int maxNew = Math.min(options.maxNewTokens(), llamaConfig.maxPositionEmbeddings() - length);
        try (KvCache cache = llm.newCache(length + maxNew - 1)) {
            int reused = restoreSharedPrefix(session, prompt, cache);
            return generate(session, prompt, cache, reused, maxNew, options, sink,
                    () -> keepPrefix(session, prompt, cache));
        }
    }

    /**
     * Runs the LLM over {@code prompt} into {@code cache}, which already holds its first {@code reused} positions,
     * then generates at most {@code maxNew} tokens. The cache must have room for the prompt and maxNew - 1 more.
     *
     * @param afterPrefill run once the prompt is in the cache, before generating
     */
    Answer generate(ImageSession session, PreparedPrompt prompt, KvCache cache, int reused, int maxNew,
                    GenerationOptions options, TokenListener sink, Runnable afterPrefill) {
        int length = prompt.embeddings().size(0);
        Sampler sampler = new Sampler(options);
        Generation generation = new Generation(tokenizer, stopCondition);
        long t0 = System.nanoTime();
        Tensor embeddings = prompt.embeddings();
        float[] first = llm.forward(embeddings.slice(reused, embeddings.dim(0)), cache);
        afterPrefill.run();
        double prefillMs = millisSince(t0);
        long t1 = System.nanoTime();
        Generation.Result result = generation.run(first, id -> llm.forward(llm.embed(new int[] {id}), cache),
                sampler::next, maxNew, sink);
        double decodeMs = millisSince(t1);
        Answer.Timings timings = new Answer.Timings(session.encodeMs(), prompt.prepareMs(), prefillMs, decodeMs,
                result.tokens().length, reused);
        return new Answer(result.text(), result.tokens(), length, timings);
    }

    /** A fresh KV cache for {@code capacity} positions. */
    KvCache newCache(int capacity) {
        return llm.newCache(capacity);
    }

    /**
     * Starts a conversation about an encoded image ({@link Chat}): turns that build on each other, each prefilling
     * only its own new tokens.
     */
    public Chat chat(ImageSession session) {
        return new Chat(this, session, template);
    }

    /**
     * Starts {@code cache} with the positions this prompt shares with the session's last one (the system sentence
     * and the image, for questions asked the usual way) and returns how many; at least the last position is always
     * left to run, for its logits.
     */
    private static int restoreSharedPrefix(ImageSession session, PreparedPrompt prompt, KvCache cache) {
        ImageSession.PromptPrefix last = session.prefix();
        if (last == null) {
            return 0;
        }
        int shared = Math.min(last.sharedWith(prompt.embeddings()), prompt.embeddings().size(0) - 1);
        if (shared > 0) {
            cache.restore(last.cache(), shared);
        }
        return Math.max(shared, 0);
    }

    /** Keeps the prompt's positions up to the end of the image tokens, which the next question will share. */
    private static void keepPrefix(ImageSession session, PreparedPrompt prompt, KvCache cache) {
        int imageAt = -1;
        for (int i = 0; i < prompt.inputIds().length && imageAt < 0; i++) {
            if (prompt.inputIds()[i] == OspreyTokens.IMAGE_TOKEN_ID) {
                imageAt = i;
            }
        }
        int end = imageAt + session.imageTokens().size(0);
        ImageSession.PromptPrefix last = session.prefix();
        if (imageAt < 0 || end > cache.length() || last != null && last.cache().length() == end
                && last.sharedWith(prompt.embeddings()) >= end) {
            return; // no image, or the session already holds exactly this prefix
        }
        session.prefix(new ImageSession.PromptPrefix(prompt.embeddings().slice(0, end).copy(), cache.prefix(end)));
    }

    /** {@link #ask(ImageSession, List, String, GenerationOptions, TokenListener)} without streaming. */
    public Answer ask(ImageSession session, List<Mask> masks, String question, GenerationOptions options) {
        return ask(session, masks, question, options, TokenListener.NONE);
    }

    private static double millisSince(long t0) {
        return (System.nanoTime() - t0) / 1e6;
    }

    /** Unmaps the weight files; sessions and tensors from this instance must not be used afterwards. */
    @Override
    public void close() {
        try {
            weights.close();
        } finally {
            if (clipWeights != null) {
                clipWeights.close();
            }
        }
    }
}
