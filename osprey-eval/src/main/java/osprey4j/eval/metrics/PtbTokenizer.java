package osprey4j.eval.metrics;

import edu.stanford.nlp.ling.CoreAnnotations;
import edu.stanford.nlp.ling.CoreLabel;
import edu.stanford.nlp.process.CoreLabelTokenFactory;
import edu.stanford.nlp.process.PTBTokenizer;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The COCO caption evaluation's tokenisation ({@code pycocoevalcap/tokenizer/ptbtokenizer.py}): every caption of
 * every key, newlines made spaces, joined one per line; the lot run through Stanford CoreNLP 3.4.1's
 * {@code PTBTokenizer -preserveLines -lowerCase} (the same library, called in process the way its command line
 * does); the output read back line by line, in step with the captions; and the tokens in its punctuation list
 * dropped. Its quirks are kept: the list has {@code -LRB-} and {@code -RRB-} in upper case, so the lower-cased
 * {@code -lrb-} and {@code -rrb-} stay; and lines are matched to captions by position, as Python's {@code zip} does.
 */
public final class PtbTokenizer {
    /** The punctuation tokens the COCO evaluation removes. */
    public static final Set<String> PUNCTUATIONS = Set.of("''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-",
            ".", "?", "!", ",", ":", "-", "--", "...", ";");

    private PtbTokenizer() {
    }

    /** Tokenises every caption of every key; keys keep their order. */
    public static Map<String, List<String>> tokenize(Map<String, List<String>> captions) {
        List<String> keys = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (Map.Entry<String, List<String>> e : captions.entrySet()) {
            for (String c : e.getValue()) {
                if (!keys.isEmpty()) {
                    text.append('\n');
                }
                keys.add(e.getKey());
                text.append(c.replace("\n", " "));
            }
        }
        String[] lines = run(text.toString()).split("\n", -1);
        Map<String, List<String>> out = new LinkedHashMap<>();
        Iterator<String> k = keys.iterator();
        for (int i = 0; i < lines.length && k.hasNext(); i++) {
            List<String> kept = new ArrayList<>();
            for (String w : PythonText.split(PythonText.rstrip(lines[i]), " ")) {
                if (!PUNCTUATIONS.contains(w)) {
                    kept.add(w);
                }
            }
            out.computeIfAbsent(k.next(), x -> new ArrayList<>()).add(String.join(" ", kept));
        }
        return out;
    }

    /** What {@code PTBTokenizer -preserveLines -lowerCase} prints for {@code text}. */
    static String run(String text) {
        StringBuilder out = new StringBuilder();
        boolean beginLine = true;
        String newline = PTBTokenizer.getNewlineToken();
        PTBTokenizer<CoreLabel> t = new PTBTokenizer<>(new StringReader(text), new CoreLabelTokenFactory(),
                ",tokenizeNLs");
        while (t.hasNext()) {
            CoreLabel token = t.next();
            String orig = token.get(CoreAnnotations.TextAnnotation.class);
            if (newline.equals(orig)) {
                beginLine = true;
                out.append('\n');
            } else {
                if (!beginLine) {
                    out.append(' ');
                } else {
                    beginLine = false;
                }
                out.append(orig.toLowerCase(Locale.ENGLISH));
            }
        }
        return out.toString();
    }
}
