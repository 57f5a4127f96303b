// The one number a model is read by: top-1 accuracy for a classifier, bits per byte for a language
// model. Charts, comparisons and reports all read this; plain so the page can use it too.
import type { Metrics } from './metrics';

export const headlineOf = (m: Metrics): number => (m.kind === 'classifier' ? m.accuracy : m.bitsPerByte);
