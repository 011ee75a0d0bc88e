import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { API_ROUTES } from '../lambda/layout/api-routes.js';
import { configRequestModelSchema } from './request-model.js';
import type { TierdriftSettings } from './settings.js';

export const API_STAGE = 'v1';

/** The route whose JSON body (a generation config) API Gateway checks against the request model. */
const CREATE_DATASET_PATH = '/datasets';

export interface DatasetApiProps {
  settings: TierdriftSettings;
  /** The function behind every route. */
  fn: lambda.IFunction;
  /** Names the API (`<stack name>-api`). */
  stackName: string;
}

/**
 * The IAM-authorized REST API: its routes, the request model of POST /datasets, throttling and
 * access logs (see infra/stack-part.ts for the scope).
 */
export class DatasetApi {
  readonly api: apigateway.RestApi;

  constructor(scope: Construct, props: DatasetApiProps) {
    const { settings } = props;
    const accessLogGroup = new logs.LogGroup(scope, 'ApiAccessLogs', {
      retention: settings.logRetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const api = (this.api = new apigateway.RestApi(scope, 'Api', {
      restApiName: `${props.stackName}-api`,
      description: 'tierdrift datasets (IAM-authorized)',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // API Gateway writes logs through one role per account and region (see docs/deploying.md).
      cloudWatchRole: settings.apiGatewayCloudWatchRole,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      deployOptions: {
        stageName: API_STAGE,
        throttlingRateLimit: settings.apiRateLimit,
        throttlingBurstLimit: settings.apiBurstLimit,
        methodOptions: {
          // Publishing is the expensive call: a tighter limit than the reads.
          '/datasets/POST': {
            loggingLevel: apigateway.MethodLoggingLevel.ERROR,
            metricsEnabled: true,
            throttlingRateLimit: Math.max(1, Math.floor(settings.apiRateLimit / 5)),
            throttlingBurstLimit: Math.max(1, Math.floor(settings.apiBurstLimit / 4)),
          },
        },
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false, // never log bodies or presigned URLs
        metricsEnabled: true,
      },
    }));

    const configModel = api.addModel('GenerationConfig', {
      contentType: 'application/json',
      modelName: 'GenerationConfig',
      description: 'POST /datasets body: generated from generationConfigSchema (lambda/config/schema.ts)',
      schema: configRequestModelSchema(),
    });
    const bodyValidator = api.addRequestValidator('BodyValidator', {
      requestValidatorName: 'validate-body',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // The gateway's own 400 for a body that fails the model, in the handler's error shape
    // ({message, errors: [{field, rule}]}); the validator's text (already JSON-escaped) is the rule.
    api.addGatewayResponse('BadRequestBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        'application/json':
          '{"message":$context.error.messageString,"errors":[{"field":"(body)","rule":"$context.error.validationErrorString"}]}',
      },
    });

    const integration = new apigateway.LambdaIntegration(props.fn, { proxy: true, allowTestInvoke: false });
    // One resource per path segment and one method per route and method, as `API_ROUTES` lists them.
    // Scoring predictions (POST …/evaluations) has a CSV body, checked by the function (a model describes JSON only).
    const resourceOf = (path: string): apigateway.IResource =>
      path
        .split('/')
        .filter(Boolean)
        .reduce<apigateway.IResource>((parent, part) => parent.getResource(part) ?? parent.addResource(part), api.root);
    const methods = API_ROUTES.flatMap(({ path, methods: verbs }) =>
      verbs.map((verb) =>
        resourceOf(path).addMethod(verb, integration, {
          requestValidator: bodyValidator,
          ...(verb === 'POST' && path === CREATE_DATASET_PATH
            ? { requestModels: { 'application/json': configModel } }
            : {}),
        }),
      ),
    );

    Validations.of(api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every method requires SigV4 (IAM) authorization, so unauthenticated traffic is rejected by API Gateway ' +
        'before it reaches the function; the stage is throttled and access-logged. A WAF web ACL (about USD 6 a ' +
        'month before requests) would add rate-based rules on top of that; deployers who need it can attach one.',
    });
    for (const method of methods) {
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          'The method uses IAM (SigV4) authorization: callers are IAM principals of the account (jobs, CI, ' +
          'operators), granted execute-api:Invoke by their own policies. There are no end users to put in a ' +
          'Cognito user pool.',
      });
    }
    const cloudWatchRole = api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The account-level role API Gateway needs to write execution and access logs (AWS::ApiGateway::Account). ' +
          'AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy for exactly that service role; it is ' +
          'assumable only by apigateway.amazonaws.com.',
      });
    }
  }
}
