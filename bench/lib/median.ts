/** The middle value; of an even count, the upper of the two middle ones (a value that was measured). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
