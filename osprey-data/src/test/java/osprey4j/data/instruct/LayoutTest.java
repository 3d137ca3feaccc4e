package osprey4j.data.instruct;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class LayoutTest {
    /** An object whose centroid is the centre of its box, in a 300 x 300 image. */
    static SceneObject box(String cat, double x, double y, double w, double h) {
        return new SceneObject(0, cat, 0, null, new double[]{x, y, w, h}, (x + w / 2) / 300, (y + h / 2) / 300,
                w * h / 90000, null, List.of(), List.of());
    }

    @Test
    void positionsByThirds() {
        assertEquals("top left", Layout.position(box("a", 0, 0, 50, 50)));
        assertEquals("centre", Layout.position(box("a", 120, 120, 60, 60)));
        assertEquals("right", Layout.position(box("a", 250, 130, 40, 40)));
        assertEquals("bottom", Layout.position(box("a", 130, 250, 40, 40)));
        assertEquals("at the bottom of the image", Layout.positionPhrase(box("a", 130, 250, 40, 40)));
        assertEquals("on the right of the image", Layout.positionPhrase(box("a", 250, 130, 40, 40)));
        assertEquals("in the top left of the image", Layout.positionPhrase(box("a", 0, 0, 50, 50)));
    }

    @Test
    void sizesByAreaFraction() {
        assertEquals("small", Layout.size(box("a", 0, 0, 40, 40)));          // 1.8 %
        assertEquals("medium-sized", Layout.size(box("a", 0, 0, 100, 100))); // 11 %
        assertEquals("large", Layout.size(box("a", 0, 0, 200, 150)));        // 33 %
    }

    /** A size attribute in the annotations (the synthetic world writes one) wins over the visible area. */
    @Test
    void aSizeAttributeWinsOverTheArea() {
        SceneObject small = box("truck", 0, 0, 40, 40); // 1.8 % of the image: "small" by area
        SceneObject large = new SceneObject(0, "truck", 0, null, small.bbox(), small.centreX(), small.centreY(),
                small.areaFraction(), "red", List.of(new Attribute("striped", "pattern_marking"),
                new Attribute("large", "size")), List.of());
        assertEquals("large", Layout.size(large));
        SceneObject medium = new SceneObject(0, "truck", 0, null, small.bbox(), small.centreX(), small.centreY(),
                small.areaFraction(), "red", List.of(new Attribute("medium", "size")), List.of());
        assertEquals("medium-sized", Layout.size(medium));
    }

    @Test
    void nearestByBoxGapAndRelationByLargerDisplacement() {
        SceneObject mug = box("mug", 100, 100, 40, 40);
        SceneObject plate = box("plate", 150, 110, 60, 30);   // 10 px to the right
        SceneObject dog = box("dog", 100, 200, 40, 40);        // 60 px below
        List<SceneObject> all = List.of(mug, plate, dog);
        assertSame(plate, Layout.nearest(mug, all));
        assertEquals("to the left of", Layout.relation(mug, plate));
        assertEquals("to the right of", Layout.relation(plate, mug));
        assertEquals("above", Layout.relation(mug, dog));
        assertEquals("below", Layout.relation(dog, mug));
        assertEquals("next to", Layout.relation(mug, box("cup", 101, 101, 40, 40)));
        assertNull(Layout.nearest(mug, List.of(mug)));
        assertEquals("below", TemplateText.inverse("above"));
    }

    @Test
    void colourNamesFromMeanPixels() {
        assertEquals("red", Colours.nearestName(new double[]{210, 40, 35}));
        assertEquals("green", Colours.nearestName(new double[]{40, 170, 50}));
        assertEquals("white", Colours.nearestName(new double[]{250, 250, 245}));
        assertEquals("grey", Colours.nearestName(new double[]{120, 125, 130}));
        assertNull(Colours.nearestName(null));
    }
}
