import assert from 'node:assert/strict';
import { States, errorMessageOf, errorState, isErrorState, normalizeState } from '../../ts/machine/states.js';

describe('states', () => {
  it('maps legacy display strings, snake_case and any case to canonical names', () => {
    const cases: Array<[string, string]> = [
      ['Parsing Configuration', States.ParsingConfig],
      ['Connecting to TiDB', States.Connecting],
      ['Testing Connection', States.TestingConnection],
      ['Verifying Database', States.VerifyingDatabase],
      ['Getting Server Version', States.GettingVersion],
      ['parsing_config', States.ParsingConfig],
      ['checking_import_jobs', States.CheckingImportJobs],
      ['showing_import_job_details', States.ShowingImportJobDetails],
      ['getting_version', States.GettingVersion],
      ['completed', States.Completed],
      ['COMPLETED', States.Completed],
      ['initial', States.Initial],
      ['testingconnection', States.TestingConnection],
    ];
    for (const [legacy, canonical] of cases) assert.equal(normalizeState(legacy), canonical, legacy);
  });

  it('returns custom states unchanged', () => {
    assert.equal(normalizeState('creating_table'), 'creating_table');
    assert.equal(normalizeState('MyCustomState'), 'MyCustomState');
  });

  it('recognises and normalises error states', () => {
    assert.equal(errorState('boom'), 'Error: boom');
    assert.ok(isErrorState('Error: boom'));
    assert.ok(isErrorState('Error'));
    assert.ok(isErrorState('error:legacy'));
    assert.ok(!isErrorState('Errors'));
    assert.ok(!isErrorState('error_handling'));
    assert.equal(errorMessageOf('Error: boom'), 'boom');
    assert.equal(errorMessageOf('Error'), '');
    assert.equal(errorMessageOf('Completed'), undefined);
    assert.equal(normalizeState('error:legacy message'), 'Error: legacy message');
    assert.equal(normalizeState('ERROR'), 'Error');
  });
});
