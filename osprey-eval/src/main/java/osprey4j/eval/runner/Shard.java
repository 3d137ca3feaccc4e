package osprey4j.eval.runner;

/**
 * Part {@code index} of {@code count} ({@code --shard i/n}, from 0): the images whose position in the evaluation
 * file is {@code index} modulo {@code count}. Whole images go to one shard so each is encoded once; the shards'
 * samples files together hold every sample exactly once.
 */
public record Shard(int index, int count) {
    public static final Shard ALL = new Shard(0, 1);

    public Shard {
        if (count < 1 || index < 0 || index >= count) {
            throw new IllegalArgumentException("shard must be i/n with 0 <= i < n, got " + index + "/" + count);
        }
    }

    /** Parses {@code i/n}. */
    public static Shard parse(String s) {
        String[] p = s.strip().split("/", -1);
        if (p.length != 2) {
            throw new IllegalArgumentException("--shard must be i/n (for example 0/4), got '" + s + "'");
        }
        try {
            return new Shard(Integer.parseInt(p[0].strip()), Integer.parseInt(p[1].strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--shard must be i/n (for example 0/4), got '" + s + "'");
        }
    }

    public boolean holds(long imagePosition) {
        return imagePosition % count == index;
    }

    @Override
    public String toString() {
        return index + "/" + count;
    }
}
