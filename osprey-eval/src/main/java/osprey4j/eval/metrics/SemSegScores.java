package osprey4j.eval.metrics;

import java.util.Arrays;

/**
 * Semantic-segmentation scores as detectron2's {@code SemSegEvaluator} computes them: a confusion matrix of
 * (K+1)&times;(K+1) pixel counts, rows the predicted class, columns the true class, the ignore label counted as
 * class K (and so left out of every score); then, over the classes with true pixels, per-class IoU and accuracy,
 * their means (mIoU, mACC), the frequency-weighted IoU (fwIoU) and the pixel accuracy (pACC), all &times;100.
 * A class without true pixels has NaN IoU and accuracy (predicting it still costs the other classes nothing,
 * since its row only counts pixels of the classes it covers). Boundary IoU, which the evaluator adds when OpenCV is
 * installed, is not computed: the evaluation does not report it.
 */
public final class SemSegScores {
    private final int classes;
    private final int ignoreLabel;
    private final long[] confusion;

    /**
     * @param classes     K, the number of classes (labels 0..K-1)
     * @param ignoreLabel the label of pixels left out (255 in both datasets)
     */
    public SemSegScores(int classes, int ignoreLabel) {
        if (classes < 1) {
            throw new IllegalArgumentException("need at least one class, got " + classes);
        }
        this.classes = classes;
        this.ignoreLabel = ignoreLabel;
        this.confusion = new long[(classes + 1) * (classes + 1)];
    }

    /**
     * Adds one image.
     *
     * @param predicted the predicted class of each pixel, 0..K-1
     * @param truth     the true label of each pixel, 0..K-1 or the ignore label, same length
     * @throws IllegalArgumentException for another label (the reference's bincount would fail or miscount)
     */
    public void add(int[] predicted, int[] truth) {
        if (predicted.length != truth.length) {
            throw new IllegalArgumentException("prediction of " + predicted.length + " pixels, ground truth of "
                    + truth.length);
        }
        int n = classes + 1;
        for (int i = 0; i < truth.length; i++) {
            int g = truth[i] == ignoreLabel ? classes : truth[i];
            int p = predicted[i];
            if (g < 0 || g > classes || p < 0 || p >= classes) {
                throw new IllegalArgumentException("label " + truth[i] + " or prediction " + p + " outside 0.."
                        + (classes - 1) + " (ignore label " + ignoreLabel + ")");
            }
            confusion[n * p + g]++;
        }
    }

    /** Count of pixels predicted {@code predicted} whose truth is {@code truth} (K for ignored). */
    public long count(int predicted, int truth) {
        return confusion[(classes + 1) * predicted + truth];
    }

    /** The scores, &times;100 as the evaluator reports them; NaN where the evaluator's are NaN. */
    public record Result(double mIoU, double fwIoU, double mACC, double pACC, double[] iou, double[] acc) {
    }

    /**
     * Cityscapes' mean IoU as cityscapesScripts' {@code evalPixelLevelSemanticLabeling} averages it (its
     * averageScoreClasses, which detectron2's CityscapesSemSegEvaluator reports as IoU): per class
     * tp / (tp + fp + fn) with false positives counted on non-ignored pixels only, averaged over the classes whose
     * denominator is not zero, so a class predicted but absent from the ground truth counts as 0 (SemSegEvaluator
     * leaves it out); &times;100. With labels as trainIds (ignored pixels at the ignore label) this is that
     * evaluation's figure on labelIds, whose ignored labels are the pixels without a trainId.
     */
    public double cityscapesMeanIou() {
        int n = classes + 1;
        double sum = 0;
        int valid = 0;
        for (int c = 0; c < classes; c++) {
            long tp = confusion[n * c + c];
            long posGt = 0;
            long posPred = 0;
            for (int o = 0; o < classes; o++) {
                posGt += confusion[n * o + c];
                posPred += confusion[n * c + o];
            }
            long fn = posGt - tp;
            long fp = posPred - tp;
            long denom = tp + fp + fn;
            if (denom != 0) {
                sum += (double) tp / denom;
                valid++;
            }
        }
        return valid == 0 ? Double.NaN : 100 * (sum / valid);
    }

    public Result result() {
        int n = classes + 1;
        double[] tp = new double[classes];
        double[] posGt = new double[classes];
        double[] posPred = new double[classes];
        for (int p = 0; p < classes; p++) {
            tp[p] = confusion[n * p + p];
            for (int g = 0; g < classes; g++) {
                posGt[g] += confusion[n * p + g];
                posPred[p] += confusion[n * p + g];
            }
        }
        double sumGt = 0;
        for (double v : posGt) {
            sumGt += v;
        }
        double[] acc = new double[classes];
        double[] iou = new double[classes];
        Arrays.fill(acc, Double.NaN);
        Arrays.fill(iou, Double.NaN);
        double accSum = 0;
        int accValid = 0;
        double iouSum = 0;
        int iouValid = 0;
        double fw = 0;
        double tpSum = 0;
        for (int c = 0; c < classes; c++) {
            tpSum += tp[c];
            if (posGt[c] > 0) {
                acc[c] = tp[c] / posGt[c];
                accSum += acc[c];
                accValid++;
                double union = posGt[c] + posPred[c] - tp[c];
                if (union > 0) {
                    iou[c] = tp[c] / union;
                    iouSum += iou[c];
                    iouValid++;
                    fw += iou[c] * (posGt[c] / sumGt);
                }
            }
        }
        double[] iou100 = new double[classes];
        double[] acc100 = new double[classes];
        for (int c = 0; c < classes; c++) {
            iou100[c] = 100 * iou[c];
            acc100[c] = 100 * acc[c];
        }
        return new Result(100 * (iouSum / iouValid), 100 * fw, 100 * (accSum / accValid), 100 * (tpSum / sumGt),
                iou100, acc100);
    }
}
