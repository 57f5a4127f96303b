import { useMemo } from 'react';
import type { ModelSummary } from '../../workers/client';
import { formatCount, formatFlops, formatInteger, formatPercent } from '../format';
import { modelMapData } from '../model-map';

/** Parameters and FLOPs per example: totals, then per part of the model. */
export function CostPanel({ summary }: { summary: ModelSummary }) {
  const data = useMemo(() => modelMapData(summary), [summary]);
  const { cost } = summary;
  const sparse = cost.nonzeroParams < cost.params;
  return (
    <section className="card cost-panel" aria-labelledby="cost-title">
      <div className="card-head">
        <h2 id="cost-title">Size and compute</h2>
        <span className="card-note">per example of {summary.sequence} tokens</span>
      </div>
      <dl className="figures">
        <div className="figure main">
          <dt>Parameters</dt>
          <dd title={`${formatInteger(cost.params)} parameters`}>{formatCount(cost.params)}</dd>
        </div>
        <div className="figure main">
          <dt>FLOPs</dt>
          <dd title={`${formatInteger(cost.flops)} FLOPs per example`}>{formatFlops(cost.flops)}</dd>
        </div>
        {sparse && (
          <div className="figure">
            <dt>Non-zero parameters</dt>
            <dd>{formatCount(cost.nonzeroParams)}</dd>
          </div>
        )}
        {cost.flops !== cost.denseFlops && (
          <div className="figure">
            <dt>Dense FLOPs</dt>
            <dd>{formatFlops(cost.denseFlops)}</dd>
          </div>
        )}
      </dl>
      <table className="cost-table">
        <caption className="visually-hidden">Parameters and FLOPs per part of the model</caption>
        <thead>
          <tr>
            <th scope="col">Part</th>
            <th scope="col">Params</th>
            <th scope="col">FLOPs</th>
            <th scope="col">Share</th>
          </tr>
        </thead>
        <tbody>
          {data.rows.map((r) => (
            <tr key={r.id}>
              <th scope="row">{r.title}</th>
              <td title={r.paramsNote ?? formatInteger(r.params)}>{r.paramsNote ? 'tied' : formatCount(r.params)}</td>
              <td title={formatInteger(r.flops)}>{formatFlops(r.flops)}</td>
              <td>
                <span className="share">
                  <span className="share-track" aria-hidden="true">
                    <span className="share-fill" style={{ width: `${Math.min(100, r.share * 100)}%` }} />
                  </span>
                  {formatPercent(r.share)}
                </span>
              </td>
            </tr>
          ))}
          {data.otherParams > 0 && (
            <tr>
              <th scope="row">Layer norms</th>
              <td title={formatInteger(data.otherParams)}>{formatCount(data.otherParams)}</td>
              <td>—</td>
              <td>—</td>
            </tr>
          )}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            <td>{formatCount(cost.params)}</td>
            <td>{formatFlops(cost.flops)}</td>
            <td>100%</td>
          </tr>
        </tfoot>
      </table>
    </section>
  );
}
