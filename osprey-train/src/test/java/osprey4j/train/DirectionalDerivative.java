package osprey4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;

/**
 * A whole-model gradient check: the accumulated gradient g of some parameters against a central difference of the
 * loss along g/|g|, whose exact value is |g|. One check covers every parameter at once; a missing or doubled term
 * anywhere moves it by far more than F32 rounding.
 */
final class DirectionalDerivative {
    private DirectionalDerivative() {
    }

    /** {|g|, (loss(w + eps g/|g|) - loss(w - eps g/|g|)) / (2 eps)}; the parameters end as they started. */
    static double[] along(List<Param> params, DoubleSupplier loss, double eps) {
        double norm = 0;
        for (Param p : params) {
            for (float g : p.grad()) {
                norm += (double) g * g;
            }
        }
        norm = Math.sqrt(norm);
        if (norm == 0) {
            return new double[] {0, 0};
        }
        double[] l = new double[2];
        for (int side = 0; side < 2; side++) {
            double sign = side == 0 ? 1 : -1;
            List<float[]> saved = new ArrayList<>();
            for (Param p : params) {
                saved.add(p.value().clone());
                for (int i = 0; i < p.size(); i++) {
                    p.value()[i] += (float) (sign * eps * p.grad()[i] / norm);
                }
            }
            l[side] = loss.getAsDouble();
            for (int k = 0; k < saved.size(); k++) {
                System.arraycopy(saved.get(k), 0, params.get(k).value(), 0, saved.get(k).length);
            }
        }
        return new double[] {norm, (l[0] - l[1]) / (2 * eps)};
    }
}
