package osprey4j.service;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.data.coco.CocoMasks;
import osprey4j.core.mask.Mask;
import osprey4j.model.Answer;
import osprey4j.model.ImageSession;
import osprey4j.model.Osprey;
import osprey4j.model.TokenListener;
import osprey4j.model.image.RgbImage;
import osprey4j.model.vision.ConvNextTower;

/**
 * Osprey's use cases (ask, describe, inspect) over one loaded model: what the CLI, the HTTP server and the batch
 * jobs call alike, with plain request and result records that Jackson reads and writes ({@link ServiceJson}).
 *
 * <p><b>Threads.</b> Safe to call from many threads at once. What is shared, the model's weights and the compute
 * pool, is only read; what a call needs for itself, the encoded image ({@link ImageSession} with its cached prompt
 * prefix), the LLM's KV cache and the activation scratch, is created by the call and dropped with it. Concurrent
 * calls share the cores (the pool), not their state.
 *
 * <p><b>Images.</b> Each request names its image file and the service reads it. A caller that has already decoded
 * the image (the CLI does, to size box regions and check masks before loading the model) passes it alongside.
 *
 * <p><b>Warnings.</b> Every call takes a sink for the warnings that concern it (an empty region, say): one line
 * each, delivered on the calling thread as they happen; null leaves them to {@code java.util.logging}.
 *
 * <p><b>Errors.</b> {@link InvalidRequestException} for what the request got wrong (unreadable image, a region of
 * another size); anything else is the service's failure.
 *
 * <p>Segmentation (SAM: clicks and boxes to masks, "segment everything") is not built yet; callers that offer it
 * take a {@link Segmenter}, the capability it will provide.
 */
public final class OspreyService implements AutoCloseable {
    private final Osprey model;

    private OspreyService(Osprey model) {
        this.model = model;
    }

    /**
     * Loads the model in {@code dir} (see {@link Osprey#load(Path, Consumer)}).
     *
     * @param warnings one line per thing about the directory or its weights that differs from what the reference
     *                 would do; null to log them
     */
    public static OspreyService load(Path dir, Consumer<String> warnings) {
        Osprey model = Warnings.routed(warnings, () -> warnings == null ? Osprey.load(dir) : Osprey.load(dir, warnings));
        return new OspreyService(model);
    }

    /** The maximum sequence length of the model's LLM (prompt and answer together). */
    public int maxPositions() {
        return model.llamaConfig().maxPositionEmbeddings();
    }

    /** The model directory, as given to {@link #load}. */
    public Path modelDirectory() {
        return model.directory();
    }

    /** Reads an image file as the model sees it. */
    public static RgbImage readImage(String file) {
        Path path = Path.of(file);
        if (!Files.isRegularFile(path)) {
            throw new InvalidRequestException("image file not found: " + file);
        }
        try {
            return RgbImage.read(path);
        } catch (Exception e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new InvalidRequestException("cannot read image " + file + ": " + why, e);
        }
    }

    /** {@link #ask(RgbImage, AskRequest, TokenListener, Consumer)} reading the request's image. */
    public AskResult ask(AskRequest request, TokenListener tokens, Consumer<String> warnings) {
        return ask(readImage(request.image()), request, tokens, warnings);
    }

    /**
     * Answers one question about regions of {@code image} (the decoded {@code request.image()}).
     *
     * @param tokens hears the answer as it is generated (null: not streamed)
     */
    public AskResult ask(RgbImage image, AskRequest request, TokenListener tokens, Consumer<String> warnings) {
        return Warnings.routed(warnings, () -> ask(model.encode(image), request, tokens, warnings));
    }

    /**
     * Encodes an image once for many requests (a server's upload): the session keeps the features, the image
     * tokens and, after the first question, the LLM's cache of the prompt up to the end of the image, so later
     * questions about it skip the encode and most of the prefill. Sessions may be shared by concurrent requests.
     */
    public ImageSession encode(RgbImage image) {
        return model.encode(image);
    }

    /**
     * {@link #ask(RgbImage, AskRequest, TokenListener, Consumer)} on an image encoded before ({@link #encode});
     * the request's image name is only carried along.
     */
    public AskResult ask(ImageSession session, AskRequest request, TokenListener tokens, Consumer<String> warnings) {
        return Warnings.routed(warnings, () -> {
            List<Mask> masks = request.regions();
            Answer a = invalidIfArgument(() -> model.ask(session, masks, request.question(), request.options(),
                    tokens));
            return AskResult.of(a);
        });
    }

    /**
     * Starts a conversation about {@code image} (the decoded {@code imageFile}): encodes it once; regions are added
     * to the returned session, and every turn reuses what the earlier ones computed. Close it when done.
     */
    public ChatSession chat(RgbImage image, String imageFile, Consumer<String> warnings) {
        Objects.requireNonNull(imageFile, "imageFile");
        return Warnings.routed(warnings, () -> chat(model.encode(image), imageFile, warnings));
    }

    /** {@link #chat(RgbImage, String, Consumer)} on an image encoded before ({@link #encode}). */
    public ChatSession chat(ImageSession session, String imageFile, Consumer<String> warnings) {
        Objects.requireNonNull(imageFile, "imageFile");
        return new ChatSession(model.chat(session), imageFile, warnings);
    }

    /**
     * Encodes {@code image} once for many independent questions about it ({@link ImageQuestions}), as the
     * reference's evaluations ask about each region of an image in turn.
     */
    public ImageQuestions questions(RgbImage image, Consumer<String> warnings) {
        return Warnings.routed(warnings, () -> new ImageQuestions(model, model.encode(image), warnings));
    }

    /** {@link #describe(RgbImage, DescribeRequest, DescribeProgress, Consumer)} reading the request's image. */
    public DescribeResult describe(DescribeRequest request, DescribeProgress progress, Consumer<String> warnings) {
        return describe(readImage(request.image()), request, progress, warnings);
    }

    /**
     * Describes every region of {@code image}: encodes it once, then asks the demo's question of each region in
     * turn (later questions reuse the cached system sentence and image).
     */
    public DescribeResult describe(RgbImage image, DescribeRequest request, DescribeProgress progress,
                                   Consumer<String> warnings) {
        return Warnings.routed(warnings, () -> describe(model.encode(image), request, progress, warnings));
    }

    /** {@link #describe(RgbImage, DescribeRequest, DescribeProgress, Consumer)} on an image encoded before. */
    public DescribeResult describe(ImageSession session, DescribeRequest request, DescribeProgress progress,
                                   Consumer<String> warnings) {
        DescribeProgress listener = progress == null ? DescribeProgress.NONE : progress;
        return Warnings.routed(warnings, () -> {
            List<DescribeRequest.Region> regions = request.regions();
            listener.encoded(session.width(), session.height(), session.encodeMs(), regions.size());
            String question = request.detail().message();
            List<RegionDescription> out = new ArrayList<>(regions.size());
            for (DescribeRequest.Region region : regions) {
                List<Mask> mask = List.of(region.mask());
                Answer a = invalidIfArgument(() -> model.ask(session, mask, question, request.options()));
                RegionDescription d = new RegionDescription(region.id(), CocoMasks.toBbox(region.mask()),
                        region.mask().area(), question, a.text(), a.tokens(), a.promptTokens());
                out.add(d);
                Answer.Timings t = a.timings();
                listener.described(out.size(), regions.size(), d, t.regionsMs() + t.prefillMs() + t.decodeMs());
            }
            return new DescribeResult(out, session.encodeMs());
        });
    }

    /** {@link #inspect(RgbImage, InspectRequest, Consumer)} reading the request's image. */
    public InspectResult inspect(InspectRequest request, Consumer<String> warnings) {
        return inspect(readImage(request.image()), request, warnings);
    }

    /**
     * Runs one question up to the first generated position and writes the intermediate tensors, all F32 (ids
     * I64), under the reference dumps' names: {@code pixel_values}, {@code stem}, {@code res2}..{@code res5},
     * {@code image_tokens}, {@code mask_tokens}, {@code pos_tokens}, {@code input_ids} (-200 = image),
     * {@code inputs_embeds} and {@code logits}. The file's metadata records the image, the regions' sources, the
     * question, the prompt and the model directory.
     */
    public InspectResult inspect(RgbImage image, InspectRequest request, Consumer<String> warnings) {
        return Warnings.routed(warnings, () -> {
            ImageSession session = model.encode(image);
            List<Mask> masks = request.regions();
            Osprey.PreparedPrompt prompt = invalidIfArgument(() -> model.prepare(session, masks, request.question()));
            float[] logits = model.firstLogits(prompt);

            Map<String, Tensor> tensors = new LinkedHashMap<>();
            ConvNextTower.Features f = session.features();
            tensors.put("pixel_values", session.pixelValues());
            tensors.put("stem", f.stem());
            tensors.put("res2", f.res2());
            tensors.put("res3", f.res3());
            tensors.put("res4", f.res4());
            tensors.put("res5", f.res5());
            tensors.put("image_tokens", session.imageTokens());
            tensors.put("mask_tokens", prompt.maskTokens());
            tensors.put("pos_tokens", prompt.posTokens());
            tensors.put("input_ids", longs(prompt.inputIds()));
            tensors.put("inputs_embeds", prompt.embeddings());
            tensors.put("logits", Tensor.copyOf(logits, logits.length));
            tensors.replaceAll((name, t) -> t.dtype() == DType.F32 || t.dtype() == DType.I64 ? t : t.to(DType.F32));

            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("image", request.image());
            metadata.put("masks", String.join(",", request.regionSources()));
            metadata.put("question", request.question());
            metadata.put("prompt", prompt.prompt());
            metadata.put("model", model.directory().toString());
            SafetensorsWriter.write(Path.of(request.dump()), tensors, metadata);

            Map<String, InspectResult.TensorInfo> written = new LinkedHashMap<>();
            tensors.forEach((name, t) -> written.put(name, new InspectResult.TensorInfo(t.dtype().name(),
                    Arrays.stream(t.shape()).boxed().toList())));
            return new InspectResult(request.dump(), written, prompt.prompt());
        });
    }

    /** The model's IllegalArgumentExceptions about a request's masks and question, as the request's fault. */
    private static <T> T invalidIfArgument(Supplier<T> work) {
        try {
            return work.get();
        } catch (InvalidRequestException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(e.getMessage(), e);
        }
    }

    private static Tensor longs(int[] ids) {
        Tensor t = Tensor.zeros(DType.I64, ids.length);
        for (int i = 0; i < ids.length; i++) {
            t.segment().setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, ids[i]);
        }
        return t;
    }

    /** Unmaps the weights; calls still running must have ended. */
    @Override
    public void close() {
        model.close();
    }
}
