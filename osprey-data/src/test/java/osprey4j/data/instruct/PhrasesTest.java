package osprey4j.data.instruct;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PhrasesTest {
    @Test
    void articles() {
        assertEquals("an apple", Phrases.a("apple"));
        assertEquals("a banana", Phrases.a("banana"));
        assertEquals("an umbrella", Phrases.a("umbrella"));
        assertEquals("a unicycle", Phrases.a("unicycle"));
        assertEquals("an hour glass", Phrases.a("hour glass"));
        assertEquals("a one-way sign", Phrases.a("one-way sign"));
        assertEquals("an orange cup", Phrases.a("orange cup"));
    }

    @Test
    void plurals() {
        assertEquals("wine glasses", Phrases.plural("wine glass"));
        assertEquals("people", Phrases.plural("person"));
        assertEquals("teddy bears", Phrases.plural("teddy bear"));
        assertEquals("strawberries", Phrases.plural("strawberry"));
        assertEquals("toys", Phrases.plural("toy"));
        assertEquals("knives", Phrases.plural("knife"));
        assertEquals("sheep", Phrases.plural("sheep"));
        assertEquals("boxes", Phrases.plural("box"));
        assertEquals("three cups", Phrases.count(3, "cup"));
        assertEquals("one cup", Phrases.count(1, "cup"));
    }

    @Test
    void lists() {
        assertEquals("", Phrases.list(List.of()));
        assertEquals("a", Phrases.list(List.of("a")));
        assertEquals("a and b", Phrases.list(List.of("a", "b")));
        assertEquals("a, b and c", Phrases.list(List.of("a", "b", "c")));
    }
}
