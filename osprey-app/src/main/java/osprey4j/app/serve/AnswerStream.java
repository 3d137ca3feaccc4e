package osprey4j.app.serve;

import java.util.List;
import java.util.function.Consumer;
import osprey4j.model.TokenListener;

/**
 * Hears an answer as it is generated: counts tokens, notes the time of the first, applies the request's stop
 * strings (the answer ends before the first one; text that might be the start of one is held back until it is
 * clear) and passes the text that is final on to {@code sink} (an SSE writer, or nothing).
 */
final class AnswerStream implements TokenListener {
    private final List<String> stops;
    private final int holdBack;
    private final Consumer<String> sink;
    private final StringBuilder text = new StringBuilder();
    private int emitted;
    private int tokens;
    private long firstTokenNanos;
    private boolean stopped;

    AnswerStream(List<String> stops, Consumer<String> sink) {
        this.stops = stops;
        this.holdBack = stops.stream().mapToInt(String::length).max().orElse(1) - 1;
        this.sink = sink;
    }

    @Override
    public void onToken(int tokenId, String delta) {
        if (tokens++ == 0) {
            firstTokenNanos = System.nanoTime();
        }
        if (stopped || delta.isEmpty()) {
            return;
        }
        int from = Math.max(0, text.length() - holdBack);
        text.append(delta);
        int cut = -1;
        for (String s : stops) {
            int at = text.indexOf(s, from);
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
            }
        }
        if (cut >= 0) {
            text.setLength(cut);
            stopped = true;
            flush(text.length());
        } else {
            flush(stops.isEmpty() ? text.length() : safeEnd());
        }
    }

    /** The end of what cannot turn into a stop string whatever comes next. */
    private int safeEnd() {
        int end = text.length();
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, text.length()); k > 0; k--) {
                if (text.toString().regionMatches(text.length() - k, s, 0, k)) {
                    end = Math.min(end, text.length() - k);
                    break;
                }
            }
        }
        return end;
    }

    private void flush(int end) {
        if (end > emitted) {
            String part = text.substring(emitted, end);
            emitted = end;
            sink.accept(part);
        }
    }

    @Override
    public boolean stopRequested() {
        return stopped;
    }

    /**
     * The answer as the client gets it: the model's final text, cut before the first stop string; what was held
     * back is passed to the sink now.
     */
    String finish(String modelText) {
        String out = modelText;
        if (stopped) {
            out = text.toString();
        } else {
            int cut = -1;
            for (String s : stops) {
                int at = out.indexOf(s);
                if (at >= 0 && (cut < 0 || at < cut)) {
                    cut = at;
                }
            }
            if (cut >= 0) {
                out = out.substring(0, cut);
                stopped = true;
            }
        }
        if (out.length() > emitted && out.startsWith(text.substring(0, emitted))) {
            sink.accept(out.substring(emitted));
            emitted = out.length();
        }
        return out;
    }

    boolean stoppedByString() {
        return stopped;
    }

    int tokens() {
        return tokens;
    }

    /** System.nanoTime() of the first token, 0 when none came. */
    long firstTokenNanos() {
        return firstTokenNanos;
    }
}
