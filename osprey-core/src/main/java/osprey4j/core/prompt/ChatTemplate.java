package osprey4j.core.prompt;

import java.util.List;
import java.util.Objects;

/**
 * The conversation templates of the reference ({@code osprey/conversation.py}): a system sentence, then turns
 * {@code ROLE: message} joined with the "two separators" style, where a user message is followed by
 * {@code sep} and an assistant message by {@code sep2}. An open assistant turn ends the prompt with
 * {@code "ASSISTANT:"}, which is where generation starts; generation stops at {@link #stopString()}.
 */
public final class ChatTemplate {
    /** Osprey's template (the model was trained and is evaluated with it). */
    public static final ChatTemplate OSPREY_V1 = new ChatTemplate("osprey_v1",
            "A chat between a curious human and an artificial intelligence assistant. "
                    + "The assistant gives helpful, detailed, and polite answers to the human's questions.",
            "USER", "ASSISTANT", " ", "</s>");
    /** Vicuna v1's template (the base LLM's), same shape with "user" in the system sentence. */
    public static final ChatTemplate VICUNA_V1 = new ChatTemplate("vicuna_v1",
            "A chat between a curious user and an artificial intelligence assistant. "
                    + "The assistant gives helpful, detailed, and polite answers to the user's questions.",
            "USER", "ASSISTANT", " ", "</s>");

    /** One exchange; {@code assistant} is null for the turn the model is to answer. */
    public record Turn(String user, String assistant) {
        public Turn {
            Objects.requireNonNull(user, "user");
        }
    }

    private final String name;
    private final String system;
    private final String userRole;
    private final String assistantRole;
    private final String sep;
    private final String sep2;

    private ChatTemplate(String name, String system, String userRole, String assistantRole, String sep, String sep2) {
        this.name = name;
        this.system = system;
        this.userRole = userRole;
        this.assistantRole = assistantRole;
        this.sep = sep;
        this.sep2 = sep2;
    }

    /** By the reference's names: {@code osprey_v1}, {@code vicuna_v1} (alias {@code v1}). */
    public static ChatTemplate named(String name) {
        return switch (name) {
            case "osprey_v1" -> OSPREY_V1;
            case "vicuna_v1", "v1" -> VICUNA_V1;
            default -> throw new IllegalArgumentException("unknown conversation template '" + name
                    + "' (known: osprey_v1, vicuna_v1)");
        };
    }

    public String name() {
        return name;
    }

    public String system() {
        return system;
    }

    /** The text after which the assistant's answer is complete ({@code sep2}, i.e. {@code </s>}). */
    public String stopString() {
        return sep2;
    }

    /** The prompt for one question awaiting its answer. */
    public String prompt(String userMessage) {
        return prompt(List.of(new Turn(userMessage, null)));
    }

    /** The prompt for a conversation; only the last turn may lack its answer. */
    public String prompt(List<Turn> turns) {
        StringBuilder sb = new StringBuilder(system).append(sep);
        for (int i = 0; i < turns.size(); i++) {
            Turn t = turns.get(i);
            appendMessage(sb, userRole, t.user(), sep);
            if (t.assistant() == null && i != turns.size() - 1) {
                throw new IllegalArgumentException("only the last turn may be unanswered");
            }
            appendMessage(sb, assistantRole, t.assistant(), sep2);
        }
        return sb.toString();
    }

    /** Like the reference, an empty message counts as "no message yet": the role alone, no separator. */
    private static void appendMessage(StringBuilder sb, String role, String message, String separator) {
        if (message == null || message.isEmpty()) {
            sb.append(role).append(':');
        } else {
            sb.append(role).append(": ").append(message).append(separator);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
