package osprey4j.data.datasets;

/** One conversation turn as the reference's data files write it: {@code from} is {@code human} or {@code gpt}. */
public record Turn(String from, String value) {
    public static final String HUMAN = "human";
    public static final String GPT = "gpt";

    public static Turn human(String value) {
        return new Turn(HUMAN, value);
    }

    public static Turn gpt(String value) {
        return new Turn(GPT, value);
    }
}
