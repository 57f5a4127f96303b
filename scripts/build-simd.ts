// npm run build:simd — compiles assembly/simd.ts and writes src/engine/backends/simd-binary.ts.
import { writeFileSync } from 'node:fs';
import { binaryModule, compileSimd, SIMD_BINARY } from './simd/compile';

writeFileSync(SIMD_BINARY, binaryModule(await compileSimd()));
console.log(`wrote ${SIMD_BINARY}`);
