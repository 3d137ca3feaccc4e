package osprey4j.data.world;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CatalogTest {
    @Test
    void atLeastTwentyCategoriesWithPartsAndOverlappingNames() {
        List<Category> cats = Catalog.CATEGORIES;
        assertTrue(cats.size() >= 20, "categories: " + cats.size());
        assertEquals(cats.size(), cats.stream().map(Category::name).distinct().count(), "unique names");
        for (int i = 0; i < cats.size(); i++) {
            assertEquals(i + 1, cats.get(i).id());
            assertTrue(cats.get(i).parts().size() >= 2, cats.get(i).name() + " has parts");
        }
        Map<String, Set<String>> bySuper = cats.stream().collect(Collectors.groupingBy(Category::supercategory,
                Collectors.mapping(Category::name, Collectors.toSet())));
        assertTrue(bySuper.get("kitchenware").containsAll(Set.of("cup", "mug", "bowl", "vase", "bottle", "can")));
        assertTrue(bySuper.get("vehicle").containsAll(Set.of("car", "truck", "bus", "van")));
        assertTrue(bySuper.get("animal").containsAll(Set.of("dog", "cat", "fox")));
        assertTrue(bySuper.get("building").containsAll(Set.of("house", "barn", "tower")));
    }

    @Test
    void buildersDrawExactlyTheDeclaredParts() {
        for (Category c : Catalog.CATEGORIES) {
            Set<String> drawn = new HashSet<>();
            for (int seed = 0; seed < 20; seed++) {
                SplittableRandom rng = new SplittableRandom(seed);
                Paint main = Paint.plain(c.colours().getFirst(), c.colours().getFirst().rgb);
                Catalog.Frame f = new Catalog.Frame(100, 150, 80, seed % 2 == 0, main, rng);
                c.builder().build(f);
                for (Part p : f.parts) {
                    assertTrue(c.parts().contains(p.name()), c.name() + " draws undeclared part " + p.name());
                    drawn.add(p.name());
                }
                // Painting order follows the declaration, so part categories list parts back to front.
                List<String> order = f.parts.stream().map(Part::name).toList();
                assertEquals(c.parts().stream().filter(order::contains).toList(), order, c.name());
            }
            assertEquals(Set.copyOf(c.parts()), drawn, c.name() + ": every declared part is drawn");
        }
    }

    @Test
    void partCategoryIdsFollowObjectIdsAndAreUnique() {
        Set<Integer> ids = new HashSet<>();
        for (Category c : Catalog.CATEGORIES) {
            for (String p : c.parts()) {
                int id = SyntheticWorld.partCategoryId(c, p);
                assertTrue(id > Catalog.CATEGORIES.size());
                assertTrue(ids.add(id));
            }
        }
    }
}
