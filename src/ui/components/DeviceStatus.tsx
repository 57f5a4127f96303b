import { useWorkbench } from '../store';

/** The page was opened with ?debug=lose-device: offer to destroy the GPU device, to see the page recover. */
const debugLoseDevice = () => new URLSearchParams(window.location.search).get('debug') === 'lose-device';

const TEXT = {
  lost: 'GPU device lost — recovering…',
  recovered: 'GPU device lost — recovered',
  failed: 'GPU device lost — could not recover',
} as const;

/** What became of the GPU device after a loss (the reason on hover), and the debug trigger. */
export function DeviceStatus() {
  const device = useWorkbench((s) => s.device);
  const loseDevice = useWorkbench((s) => s.loseDevice);
  const onWebGpu = useWorkbench((s) => s.backend?.name === 'webgpu');
  return (
    <>
      {device.status !== 'ok' && (
        <p className={`device-status device-${device.status}`} aria-live="polite" title={device.message}>
          {TEXT[device.status]}
        </p>
      )}
      {debugLoseDevice() && onWebGpu && device.status !== 'lost' && (
        <button type="button" className="button small quiet" onClick={() => void loseDevice()}>
          Lose the GPU device
        </button>
      )}
    </>
  );
}
