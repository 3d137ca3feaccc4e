package osprey4j.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.MaskPng;
import osprey4j.model.GenerationOptions;
import osprey4j.model.ImageSession;
import osprey4j.model.TokenListener;
import osprey4j.model.image.RgbImage;
import osprey4j.service.AskRequest;
import osprey4j.service.AskResult;
import osprey4j.service.OspreyService;

/**
 * The measuring side of {@code osprey bench e2e}, run in a JVM of its own so that its peak resident memory is the
 * model's alone: loads the model through the service, then asks about a first region of a new image (encode +
 * the whole prompt's prefill, as {@code osprey ask} runs it, greedy, {@code tokens} new tokens: time to the first
 * token and the decoding rate after it) and a second region of the same image (the service's encoded
 * {@link ImageSession}, whose cached prompt prefix the second question reuses: time to its first token). Writes one
 * JSON object to the output file; progress goes to stderr.
 *
 * <p>Arguments: {@code MODEL_DIR IMAGE MASK1 MASK2 QUESTION TOKENS OUT_JSON}.
 */
final class BenchE2eChild {
    private BenchE2eChild() {
    }

    /** Times of each generated token (nanoTime), for the time to the first one and the decoding rate after it. */
    private static final class Clock implements TokenListener {
        final List<Long> times = new ArrayList<>();

        @Override
        public void onToken(int tokenId, String text) {
            times.add(System.nanoTime());
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 7) {
            System.err.println("usage: BenchE2eChild MODEL_DIR IMAGE MASK1 MASK2 QUESTION TOKENS OUT_JSON");
            System.exit(2);
        }
        Path model = Path.of(args[0]);
        String imageFile = args[1];
        Mask first = MaskPng.read(Path.of(args[2]));
        Mask second = MaskPng.read(Path.of(args[3]));
        String question = args[4];
        int tokens = Integer.parseInt(args[5]);
        Path out = Path.of(args[6]);
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode result = mapper.createObjectNode();
        result.put("threads", ComputePool.threads());

        RssSampler sampler = new RssSampler();
        long t0 = System.nanoTime();
        try (OspreyService service = OspreyService.load(model, w -> System.err.println("warning: " + w))) {
            result.put("load_s", seconds(System.nanoTime() - t0));
            RgbImage image = OspreyService.readImage(imageFile);
            progress("first region (encode + prefill + " + tokens + " tokens)...");
            Clock firstClock = new Clock();
            long f0 = System.nanoTime();
            ImageSession session = service.encode(image);
            AskResult a = service.ask(session, new AskRequest(imageFile, List.of(first), question,
                    GenerationOptions.greedy(tokens)), firstClock, w -> System.err.println("warning: " + w));
            if (firstClock.times.isEmpty()) {
                throw new IllegalStateException("the first question generated no token");
            }
            double firstS = seconds(firstClock.times.getFirst() - f0);
            result.put("first_region_s", firstS);
            int n = firstClock.times.size();
            result.put("generated_tokens", n);
            if (n >= 2) {
                result.put("decode_tokens_per_s",
                        (n - 1) / seconds(firstClock.times.getLast() - firstClock.times.getFirst()));
            }
            result.put("prompt_tokens", a.promptTokens());
            java.util.Arrays.stream(a.tokens()).forEach(result.putArray("generated_ids")::add);
            result.set("first_timings", mapper.valueToTree(a.timings()));
            progress(String.format(java.util.Locale.ROOT, "first region: first token after %.2f s", firstS));

            progress("next region (same image)...");
            Clock nextClock = new Clock();
            long n0 = System.nanoTime();
            AskResult b = service.ask(session, new AskRequest(imageFile, List.of(second), question,
                    GenerationOptions.greedy(1)), nextClock, w -> System.err.println("warning: " + w));
            if (nextClock.times.isEmpty()) {
                throw new IllegalStateException("the second question generated no token");
            }
            double nextS = seconds(nextClock.times.getFirst() - n0);
            result.put("next_region_s", nextS);
            result.put("next_prompt_tokens", b.promptTokens());
            result.set("next_timings", mapper.valueToTree(b.timings()));
            result.put("session_bytes", session.byteSize());
            progress(String.format(java.util.Locale.ROOT, "next region: first token after %.2f s (%d of %d prompt"
                    + " positions reused)", nextS, b.timings().reusedPromptTokens(), b.promptTokens()));
        }
        long hwm = vmHwmKb();
        sampler.stop();
        result.put("vm_hwm_kb", hwm);
        // What the peak is made of, sampled every 100 ms: anonymous memory (KV caches, activations, the JVM) and
        // mapped file pages (the weights), each at its own maximum.
        result.put("sampled_peak_rss_anon_kb", sampler.maxAnon);
        result.put("sampled_peak_rss_file_kb", sampler.maxFile);
        result.put("sampled_peak_rss_kb", sampler.maxTotal);
        Files.writeString(out, mapper.writerWithDefaultPrettyPrinter().writeValueAsString(result));
    }

    /** Samples RssAnon and RssFile of /proc/self/status on a daemon thread. */
    private static final class RssSampler {
        volatile long maxAnon;
        volatile long maxFile;
        volatile long maxTotal;
        private volatile boolean running = true;
        private final Thread thread;

        RssSampler() {
            thread = Thread.ofPlatform().daemon().name("rss-sampler").start(this::run);
        }

        private void run() {
            while (running) {
                sample();
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private void sample() {
            long anon = -1;
            long file = -1;
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("RssAnon:")) {
                        anon = Long.parseLong(line.substring(8).trim().split("\\s+")[0]);
                    } else if (line.startsWith("RssFile:")) {
                        file = Long.parseLong(line.substring(8).trim().split("\\s+")[0]);
                    }
                }
            } catch (IOException | RuntimeException e) {
                running = false;
                return;
            }
            maxAnon = Math.max(maxAnon, anon);
            maxFile = Math.max(maxFile, file);
            maxTotal = Math.max(maxTotal, anon + file);
        }

        void stop() {
            running = false;
            sample();
        }
    }

    /** This process's peak resident set (VmHWM of /proc/self/status), in KiB; -1 where there is no /proc. */
    static long vmHwmKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    private static void progress(String s) {
        System.err.println("  " + s);
        System.err.flush();
    }
}
