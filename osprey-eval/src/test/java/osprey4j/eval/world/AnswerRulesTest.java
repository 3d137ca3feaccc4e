package osprey4j.eval.world;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AnswerRulesTest {
    final AnswerRules rules = new AnswerRules(List.of("red", "green", "dark green", "blue", "light blue", "gray"));

    static WorldQuestion q(QuestionType type, String truth, String category, String other) {
        return new WorldQuestion("x", type, Path.of("i.png"), List.of(), "?", "", truth, category, other);
    }

    boolean ok(QuestionType type, String truth, String answer) {
        return rules.score(q(type, truth, truth, null), answer).correct();
    }

    @Test
    void categoryIsTheHeadOfTheFirstNounPhrase() {
        assertTrue(ok(QuestionType.CATEGORY, "mug", "mug"));
        assertTrue(ok(QuestionType.CATEGORY, "mug", "A red mug."));
        assertTrue(ok(QuestionType.CATEGORY, "mug", "The mug in region1 is red"));
        assertTrue(ok(QuestionType.CATEGORY, "mug", "It is a mug"));
        assertTrue(ok(QuestionType.CATEGORY, "mug", "mugs"));
        assertTrue(ok(QuestionType.CATEGORY, "car", "an automobile"));
        assertTrue(ok(QuestionType.CATEGORY, "bus", "buses"));
        assertFalse(ok(QuestionType.CATEGORY, "mug", "cup"));
        assertFalse(ok(QuestionType.CATEGORY, "mug", "mug handle"));
        assertFalse(ok(QuestionType.CATEGORY, "mug", "a cup next to a mug"));
        assertFalse(ok(QuestionType.CATEGORY, "mug", ""));
        assertTrue(ok(QuestionType.PART, "handle", "the handle"));
        assertFalse(ok(QuestionType.PART, "handle", "the body, near the handle"));
    }

    @Test
    void yesNoReadsTheFirstWord() {
        assertTrue(ok(QuestionType.YES_NO, "yes", "Yes"));
        assertTrue(ok(QuestionType.YES_NO, "yes", "yes, it is a mug"));
        assertTrue(ok(QuestionType.YES_NO, "no", "No."));
        assertFalse(ok(QuestionType.YES_NO, "no", "Yes"));
        assertFalse(ok(QuestionType.YES_NO, "no", "I think no"));
    }

    @Test
    void colourIsExactlyTheAnnotatedOneInTheFirstSentence() {
        assertTrue(ok(QuestionType.COLOUR, "green", "A large green mug can be seen on the left. Its handle is red."));
        assertFalse(ok(QuestionType.COLOUR, "green", "A dark green mug."));
        assertTrue(ok(QuestionType.COLOUR, "dark green", "A dark green mug."));
        assertFalse(ok(QuestionType.COLOUR, "green", "A green and blue mug."));
        assertFalse(ok(QuestionType.COLOUR, "green", "A mug. It is green."));
        assertTrue(ok(QuestionType.COLOUR, "gray", "A grey van."));
        assertFalse(ok(QuestionType.COLOUR, "red", "A golden red thing."));
        assertEquals(Set.of("light blue", "blue"), rules.coloursIn("light blue and blue"));
    }

    @Test
    void relationNeedsTheRelationAndBothCategoriesInOrder() {
        WorldQuestion q = q(QuestionType.MULTI_REGION, "to the left of", "mug", "cup");
        assertTrue(rules.score(q, "The mug in region1 is to the left of the cup in region2. More.").correct());
        assertTrue(rules.score(q, "the mug is left of the cup").correct());
        assertFalse(rules.score(q, "The mug in region1 is to the right of the cup in region2.").correct());
        assertFalse(rules.score(q, "The cup in region1 is to the left of the mug in region2.").correct());
        assertFalse(rules.score(q, "The mug. It is to the left of the cup.").correct());
        WorldQuestion below = q(QuestionType.MULTI_REGION, "below", "dog", "tree");
        assertTrue(rules.score(below, "A dog under a tree.").correct());
    }
}
