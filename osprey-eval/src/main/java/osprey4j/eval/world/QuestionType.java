package osprey4j.eval.world;

/**
 * The kinds of question the world evaluation asks, each with the bar the demo model must reach (issue 10).
 * Which training template each comes from is said in {@link WorldQuestions}; how answers are scored in
 * {@link AnswerRules}.
 */
public enum QuestionType {
    /** Short-form "what is regionN?": the category named. */
    CATEGORY("category (short form)", 0.90, 16),
    /** LVIS-style "is regionN a mug?", positives and mined negatives. */
    YES_NO("yes/no (positive and negative)", 0.95, 8),
    /** Part-level "which part of the mug is region2?". */
    PART("part name", 0.85, 16),
    /** Detailed description of a region: the colour it states. */
    COLOUR("colour in detailed descriptions", 0.90, 48),
    /** Two regions: "where is region1 relative to region2?". */
    MULTI_REGION("multi-region relation", 0.80, 48);

    private final String label;
    private final double bar;
    private final int maxNewTokens;

    QuestionType(String label, double bar, int maxNewTokens) {
        this.label = label;
        this.bar = bar;
        this.maxNewTokens = maxNewTokens;
    }

    public String label() {
        return label;
    }

    /** The accuracy the issue asks of the demo model. */
    public double bar() {
        return bar;
    }

    /** Enough greedy tokens for the part of the answer the rule reads. */
    public int maxNewTokens() {
        return maxNewTokens;
    }
}
