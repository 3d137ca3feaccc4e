package osprey4j.train.data;

import osprey4j.data.datasets.Turn;

import java.util.List;
import java.util.Objects;

/**
 * A conversation template of the reference's {@code conversation.py} in its {@code SeparatorStyle.TWO} form, the
 * one {@code preprocess_v1} asserts: the system sentence and {@code sep}, then each message as
 * {@code ROLE: message} followed by {@code sep} (even positions) or {@code sep2} (odd positions); an empty message
 * is written as {@code ROLE:} with no separator, as {@code get_prompt} does for a falsy message.
 *
 * <p>The reference trains with {@code --version v1}, i.e. {@link #VICUNA_V1} ("curious user"); inference uses
 * {@link #OSPREY_V1} ("curious human"). The two differ only in the system sentence.
 */
public record Conversation(String name, String system, String userRole, String assistantRole, String sep,
                           String sep2) {
    /** {@code conv_vicuna_v1}, what {@code train.py} selects for {@code --version v1} (the official scripts). */
    public static final Conversation VICUNA_V1 = new Conversation("vicuna_v1",
            "A chat between a curious user and an artificial intelligence assistant. "
                    + "The assistant gives helpful, detailed, and polite answers to the user's questions.",
            "USER", "ASSISTANT", " ", "</s>");
    /** {@code conv_osprey_v1}. */
    public static final Conversation OSPREY_V1 = new Conversation("osprey_v1",
            "A chat between a curious human and an artificial intelligence assistant. "
                    + "The assistant gives helpful, detailed, and polite answers to the human's questions.",
            "USER", "ASSISTANT", " ", "</s>");

    public Conversation {
        Objects.requireNonNull(system);
        Objects.requireNonNull(sep);
        Objects.requireNonNull(sep2);
    }

    /** By {@code train.py}'s rule: a known template name, anything else falls back to {@code vicuna_v1}. */
    public static Conversation forVersion(String version) {
        return switch (version) {
            case "osprey_v1" -> OSPREY_V1;
            default -> VICUNA_V1;   // "v1", "vicuna_v1", and unknown names, as train.py falls back
        };
    }

    /**
     * The prompt {@code preprocess_v1} builds from a source conversation: a first turn not from {@code human} is
     * dropped, every turn must then alternate human/gpt (the reference asserts it), and the messages are joined by
     * {@code get_prompt}.
     */
    public String prompt(List<Turn> source) {
        if (source.isEmpty()) {
            throw new IllegalArgumentException("a conversation needs at least one turn");
        }
        List<Turn> turns = source;
        if (!role(turns.getFirst()).equals(userRole)) {
            turns = turns.subList(1, turns.size());
        }
        StringBuilder sb = new StringBuilder(system).append(sep);
        for (int j = 0; j < turns.size(); j++) {
            String role = role(turns.get(j));
            String expected = j % 2 == 0 ? userRole : assistantRole;
            if (!role.equals(expected)) {
                throw new IllegalArgumentException("turn " + j + " is from '" + turns.get(j).from()
                        + "' but the conversation must alternate human and gpt");
            }
            String message = turns.get(j).value();
            if (message == null || message.isEmpty()) {
                sb.append(role).append(':');
            } else {
                sb.append(role).append(": ").append(message).append(j % 2 == 0 ? sep : sep2);
            }
        }
        return sb.toString();
    }

    /** {@code roles[sentence["from"]]}: only {@code human} and {@code gpt} are known. */
    private String role(Turn t) {
        return switch (t.from()) {
            case Turn.HUMAN -> userRole;
            case Turn.GPT -> assistantRole;
            default -> throw new IllegalArgumentException("unknown speaker '" + t.from()
                    + "' (the reference knows 'human' and 'gpt')");
        };
    }

    /** What {@code preprocess_v1} splits a round at to find the end of the instruction: {@code sep + ASSISTANT: }. */
    String answerSeparator() {
        return sep + assistantRole + ": ";
    }
}
