import { fromMoovJson } from './from-moov';
import { MoovAchClient } from './moov-client';
import { toMoovJson, type NachaFile } from './nacha-file';

/**
 * Builds and reads NACHA files through moov-io/ach. Both directions go through the library's
 * full validation, so a file the wallet writes is as checked as one it reads.
 */
export class AchFiles {
  private readonly client: MoovAchClient;

  constructor(achServerUrl: string) {
    this.client = new MoovAchClient(achServerUrl);
  }

  async build(file: NachaFile): Promise<string> {
    return this.client.withFile(toMoovJson(file), (id) => this.client.contents(id));
  }

  /** The file, or RailFileRefused saying what is wrong with it (a record, a total, the hash, a count). */
  async parse(contents: string): Promise<NachaFile> {
    return this.client.withFile(contents, (_id, json) => Promise.resolve(fromMoovJson(json)));
  }
}
