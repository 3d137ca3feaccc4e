package osprey4j.data.instruct;

import osprey4j.core.prompt.RegionPrompt;
import osprey4j.data.datasets.Turn;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a model's reply against the format its prompt asked for and turns it into record text. A reply that does
 * not fit (a region missing or invented, questions without answers, a long "short" answer) is rejected with the
 * reason, so the caller can ask again.
 */
final class ReplyParser {
    private ReplyParser() {
    }

    static final class InvalidReply extends Exception {
        InvalidReply(String message) {
            super(message);
        }
    }

    private static final Pattern DESCRIPTION = Pattern.compile("(?m)^\\s*\\**<region(\\d+)>\\**\\s*:\\s*");
    private static final Pattern QA = Pattern.compile("(?m)^\\s*\\**(Question|Answer)\\s*\\d*\\s*\\**\\s*:\\s*");
    private static final Pattern TAG = RegionPrompt.REFERENCE;
    static final int SHORT_ANSWER_WORDS = 6;

    /** {@code "<regionK>: text"} for K = 1..regions, each exactly once. */
    static List<String> descriptions(String reply, int regions) throws InvalidReply {
        String[] texts = new String[regions];
        Matcher m = DESCRIPTION.matcher(reply);
        List<int[]> heads = new ArrayList<>();   // {region, start of tag, start of text}
        while (m.find()) {
            heads.add(new int[]{Integer.parseInt(m.group(1)), m.start(), m.end()});
        }
        for (int h = 0; h < heads.size(); h++) {
            int k = heads.get(h)[0];
            int end = h + 1 < heads.size() ? heads.get(h + 1)[1] : reply.length();
            String text = reply.substring(heads.get(h)[2], end).strip().replaceAll("\\s*\\n\\s*", " ");
            if (k < 1 || k > regions) {
                throw new InvalidReply("describes <region" + k + "> but there are " + regions + " regions");
            }
            if (texts[k - 1] != null) {
                throw new InvalidReply("describes <region" + k + "> twice");
            }
            if (text.isEmpty()) {
                throw new InvalidReply("empty description for <region" + k + ">");
            }
            texts[k - 1] = text;
        }
        List<String> out = new ArrayList<>(regions);
        for (int i = 0; i < regions; i++) {
            if (texts[i] == null) {
                throw new InvalidReply("no description for <region" + (i + 1) + ">");
            }
            out.add("<region" + (i + 1) + ">: " + texts[i]);
        }
        return out;
    }

    /** Alternating question/answer turns mentioning every region; short answers when {@code shortAnswers}. */
    static List<Turn> conversation(String reply, int regions, boolean shortAnswers) throws InvalidReply {
        Matcher m = QA.matcher(reply);
        List<String[]> heads = new ArrayList<>();   // {kind, start, textStart}
        while (m.find()) {
            heads.add(new String[]{m.group(1), Integer.toString(m.start()), Integer.toString(m.end())});
        }
        if (heads.isEmpty()) {
            throw new InvalidReply("no 'Question N:' / 'Answer N:' lines");
        }
        List<Turn> turns = new ArrayList<>();
        boolean[] mentioned = new boolean[regions];
        for (int h = 0; h < heads.size(); h++) {
            boolean question = heads.get(h)[0].equals("Question");
            if (question != (h % 2 == 0)) {
                throw new InvalidReply("questions and answers do not alternate at turn " + (h + 1));
            }
            int end = h + 1 < heads.size() ? Integer.parseInt(heads.get(h + 1)[1]) : reply.length();
            String text = reply.substring(Integer.parseInt(heads.get(h)[2]), end).strip();
            if (text.isEmpty()) {
                throw new InvalidReply("empty " + (question ? "question" : "answer") + " at turn " + (h + 1));
            }
            Matcher t = TAG.matcher(text);
            while (t.find()) {
                int k = Integer.parseInt(t.group(1));
                if (k < 1 || k > regions) {
                    throw new InvalidReply("mentions <region" + k + "> but there are " + regions + " regions");
                }
                mentioned[k - 1] = true;
            }
            if (!question && shortAnswers && text.split("\\s+").length > SHORT_ANSWER_WORDS) {
                throw new InvalidReply("answer " + (h / 2 + 1) + " is not short: '" + text + "'");
            }
            turns.add(question ? Turn.human(text) : Turn.gpt(text));
        }
        if (turns.size() % 2 != 0) {
            throw new InvalidReply("the last question has no answer");
        }
        for (int i = 0; i < regions; i++) {
            if (!mentioned[i]) {
                throw new InvalidReply("<region" + (i + 1) + "> is never mentioned");
            }
        }
        return turns;
    }
}
