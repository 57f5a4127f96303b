// Labels shared by the chart and the controls.
import { DEFAULT_SWEEP } from './store';
import { formatPercent } from './format';
export { AXES, type Axis } from './share';

export const DEFAULT_SWEEP_LABEL = DEFAULT_SWEEP.map((s) => formatPercent(s, 0)).join(', ');
