import { rampStops } from '../heat';

/** The heat ramp with its meaning: `ticks` are [value, position 0…1 on the ramp] pairs. */
export function HeatLegend({
  caption,
  description,
  ticks,
}: {
  caption: string;
  description: string;
  ticks: [string, number][];
}) {
  return (
    <figure className="legend heat-legend" aria-label={description}>
      <figcaption>{caption}</figcaption>
      <div
        className="legend-ramp"
        style={{ background: `linear-gradient(to right, ${rampStops()})` }}
        aria-hidden="true"
      />
      <div className="heat-ticks" aria-hidden="true">
        {ticks.map(([label, at]) => (
          <span key={label} style={{ left: `${at * 100}%` }}>
            {label}
          </span>
        ))}
      </div>
    </figure>
  );
}
