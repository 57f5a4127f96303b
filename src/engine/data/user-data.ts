// Files the user gives as an evaluation set, wherever they come from (files dropped on the page,
// a folder chosen in the browser): one UTF-8 text file for a language model; for an image model,
// PNG or JPEG files whose parent folder names their class, with the model's
// preprocessor_config.json among them or given beside.
import type { ModelConfig } from '../model/config';
import { DataSetError, type DataSet } from './datasets';
import { IMAGE_EXTENSIONS, imageFolderSet, imageProcessor, labelOfFolder, type LabelledImage } from './images';
import { textSet } from './text';

export interface UserFile {
  /** The file's path as given: "Bag/001.png" (a chosen folder's relative paths), or a bare name. */
  name: string;
  bytes: Uint8Array;
}

const PREPROCESSOR_FILE = 'preprocessor_config.json';

const parts = (name: string) => name.split(/[\\/]/).filter((p) => p !== '');

/**
 * The evaluation set the files make for the model. A text model takes one text file; an image
 * model takes images whose parent folder is one of its labels. Every problem is one message
 * naming the file or folder.
 */
export function userDataSet(files: readonly UserFile[], config: ModelConfig, preprocessor?: unknown): DataSet {
  if (files.length === 0) throw new DataSetError('no files were given');
  if (config.kind !== 'vit') {
    if (files.length > 1)
      throw new DataSetError(`a language model is measured on one text file; ${files.length} were given`);
    return textSet(files[0].bytes, files[0].name);
  }
  const isImage = (n: string) => IMAGE_EXTENSIONS.some((x) => n.toLowerCase().endsWith(x));
  let processorJson = preprocessor;
  const images: LabelledImage[] = [];
  for (const f of files) {
    const path = parts(f.name);
    const base = path.at(-1) ?? f.name;
    if (base.toLowerCase() === PREPROCESSOR_FILE) {
      try {
        processorJson = JSON.parse(new TextDecoder().decode(f.bytes));
      } catch (e) {
        throw new DataSetError(`${f.name} is not valid JSON: ${(e as Error).message}`);
      }
      continue;
    }
    if (base.startsWith('.') || !isImage(base)) continue;
    const folder = path.at(-2);
    if (!folder) throw new DataSetError(`${f.name}: images go in a folder named by their class (<label>/${base})`);
    const label = labelOfFolder(config.labels, folder);
    if (label === undefined)
      throw new DataSetError(
        `${path.slice(0, -1).join('/')}: "${folder}" is not one of the model's labels (${config.labels.slice(0, 12).join(', ')}${config.labels.length > 12 ? ', …' : ''})`,
      );
    images.push({ label, name: f.name, bytes: f.bytes });
  }
  if (images.length === 0)
    throw new DataSetError('no PNG or JPEG images were given (a folder with one subfolder of images per class)');
  images.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return imageFolderSet(images, config, imageProcessor(config, processorJson));
}
