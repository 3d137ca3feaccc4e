package osprey4j.data.datasets;

/**
 * One POPE question ({@code coco_pope_random.json}, {@code _popular}, {@code _adversarial}: JSON lines).
 *
 * @param questionId {@code question_id}, or -1 when absent
 * @param image      {@code image}, a COCO val2014 file name such as {@code COCO_val2014_000000310196.jpg}
 * @param label      {@code yes} or {@code no} as written; {@code null} in a file without labels
 * @param line       1-based line in the file
 */
public record PopeQuestion(long questionId, String image, String text, String label, long line) {
}
