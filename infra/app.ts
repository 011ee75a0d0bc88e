// The CDK app: `npx cdk synth` / `npx cdk deploy` (cdk.json runs this with tsx).
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { settingsFromContext } from './settings.js';
import { TierdriftStack } from './tierdrift-stack.js';

const app = new App();
new TierdriftStack(app, 'Tierdrift', {
  description: 'tierdrift: synthetic temporal relational datasets published to S3 (issue 4)',
  settings: settingsFromContext(app.node),
  // Account and region come from the CLI's profile at deploy time: the template is environment
  // agnostic, so `cdk synth` needs no credentials.
});
// cdk-nag's AwsSolutions pack as a CDK policy-validation plugin: any finding that is not
// acknowledged (with its reason, beside the resource it concerns in infra/) fails the synth. The acknowledgements are
// also written into the template's Metadata for reviewers.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }));
app.synth();
