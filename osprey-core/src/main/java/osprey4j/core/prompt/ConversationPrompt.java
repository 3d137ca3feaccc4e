package osprey4j.core.prompt;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;

/**
 * The prompt of a multi-turn conversation about regions of one image, written as the reference writes its
 * multi-turn (training) conversations: the Osprey-724K conversation data, {@code preprocess_v1}, all turns in one
 * {@code osprey_v1} conversation. The reference has no multi-turn inference, so its training format is the one the
 * model knows:
 * <ul>
 *   <li>the first user message is the image preamble ({@link Preambles#IMAGE}), then the region list of the regions
 *       known at that turn ({@link Preambles#regionList}: {@code region1<mask><pos>,region2<mask><pos>}), then the
 *       question;
 *   <li>in every question and answer, the angle brackets are dropped, as the reference's conversation loader drops
 *       them ({@code <region1>} becomes the plain name {@code region1}; a typed {@code <image>} or {@code <mask>}
 *       becomes plain text, never a placeholder);
 *   <li>a region added after the first turn is introduced where a question first mentions it, written as the list
 *       writes a region: {@code regionN<mask><pos>}; later mentions are {@code regionN};
 *   <li>earlier answers are put back as their text, with the template's separators.
 * </ul>
 * Text only: tokenising it (all of it, earlier answers included) is the caller's.
 */
public final class ConversationPrompt {
    private ConversationPrompt() {
    }

    /**
     * One turn.
     *
     * @param question    as the user wrote it, with {@code <regionN>} references
     * @param answer      the answer's text, or null for the turn to be answered (the last)
     * @param regionCount how many regions existed when the question was asked
     */
    public record Turn(String question, String answer, int regionCount) {
        public Turn {
            Objects.requireNonNull(question, "question");
            if (regionCount < 0) {
                throw new IllegalArgumentException("negative region count");
            }
        }
    }

    /**
     * @param text         the whole prompt, ready for the tokenizer, ending with the assistant's open turn
     * @param userMessages each turn's user message as it stands in the prompt
     * @param maskOrder    {@code maskOrder[i]} is the index (from 0) of the region the i-th {@code <mask>} stands for
     */
    public record Built(String text, List<String> userMessages, int[] maskOrder) {
    }

    /**
     * Checks one question against the regions that exist ({@code regionCount}), as {@link #build} would, so that
     * a bad question is refused before it joins a conversation.
     *
     * @throws IllegalArgumentException for {@code <regionN>} beyond the regions
     */
    public static void check(String question, int regionCount) {
        Matcher m = RegionPrompt.REFERENCE.matcher(question);
        while (m.find()) {
            int n = parse(m.group(1));
            if (n < 1 || n > regionCount) {
                throw new IllegalArgumentException("the question refers to <region" + m.group(1) + "> but there "
                        + (regionCount == 1 ? "is 1 region" : "are " + regionCount + " regions"));
            }
        }
    }

    /** The prompt of {@code turns} (only the last may be unanswered). */
    public static Built build(ChatTemplate template, List<Turn> turns) {
        if (turns.isEmpty()) {
            throw new IllegalArgumentException("a conversation needs at least one turn");
        }
        List<Integer> order = new ArrayList<>();
        List<ChatTemplate.Turn> messages = new ArrayList<>();
        List<String> userMessages = new ArrayList<>();
        boolean[] named = new boolean[0];
        for (int t = 0; t < turns.size(); t++) {
            Turn turn = turns.get(t);
            check(turn.question(), turn.regionCount());
            if (named.length < turn.regionCount()) {
                named = java.util.Arrays.copyOf(named, turn.regionCount());
            }
            StringBuilder message = new StringBuilder();
            if (t == 0) {
                message.append(Preambles.IMAGE);
                if (turn.regionCount() > 0) {
                    message.append(Preambles.regionList(turn.regionCount()));
                    for (int i = 0; i < turn.regionCount(); i++) {
                        order.add(i);
                        named[i] = true;
                    }
                }
            }
            Matcher m = RegionPrompt.REFERENCE.matcher(turn.question());
            int from = 0;
            while (m.find()) {
                message.append(withoutAngleBrackets(turn.question().substring(from, m.start())));
                int n = parse(m.group(1));
                message.append("region").append(n);
                if (!named[n - 1]) {
                    named[n - 1] = true;
                    order.add(n - 1);
                    message.append(RegionPrompt.REGION_TOKENS);
                }
                from = m.end();
            }
            message.append(withoutAngleBrackets(turn.question().substring(from)));
            userMessages.add(message.toString());
            messages.add(new ChatTemplate.Turn(message.toString(),
                    turn.answer() == null ? null : withoutAngleBrackets(turn.answer())));
        }
        return new Built(template.prompt(messages), List.copyOf(userMessages),
                order.stream().mapToInt(Integer::intValue).toArray());
    }

    /** The reference loader's {@code s.replace('<','').replace('>','')}. */
    private static String withoutAngleBrackets(String s) {
        return s.replace("<", "").replace(">", "");
    }

    private static int parse(String digits) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }
}
