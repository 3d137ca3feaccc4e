package osprey4j.data.instruct;

import java.util.EnumMap;
import java.util.Map;

/** What a run wrote, and in LLM mode what it cost. */
public final class InstructSummary {
    final Map<Subset, Long> records = new EnumMap<>(Subset.class);
    long images;
    long regions;
    /** LLM mode: tasks answered in this run, found done in the log, and skipped after invalid replies. */
    long tasksDone;
    long tasksResumed;
    long tasksSkipped;
    long requests;
    long retries;
    long invalidReplies;
    long promptTokens;
    long completionTokens;
    double cost;

    public Map<Subset, Long> records() {
        return Map.copyOf(records);
    }

    public long images() {
        return images;
    }

    public long regions() {
        return regions;
    }

    public long tasksDone() {
        return tasksDone;
    }

    public long tasksResumed() {
        return tasksResumed;
    }

    public long tasksSkipped() {
        return tasksSkipped;
    }

    public long requests() {
        return requests;
    }

    public long retries() {
        return retries;
    }

    public long invalidReplies() {
        return invalidReplies;
    }

    public long promptTokens() {
        return promptTokens;
    }

    public long completionTokens() {
        return completionTokens;
    }

    public double cost() {
        return cost;
    }
}
