package osprey4j.train.export;

/** The export tests' small model shape, for tests in other packages. */
public final class OfficialModelWriterTestAccess {
    private OfficialModelWriterTestAccess() {
    }

    public static OspreyShape shape() {
        return OfficialModelWriterTest.smallShape();
    }
}
