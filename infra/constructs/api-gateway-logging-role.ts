import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * The API Gateway account setting that lets REST and WebSocket stages write logs to
 * CloudWatch. Without it a fresh account or region refuses the stage ("CloudWatch Logs
 * role ARN must be set in account settings"), so Herald sets it by default. It is one
 * value per account and region, shared by every API there: where one is already set,
 * deploy with `-c apiGatewayCloudWatchRole=false`. The role is retained: deleting it
 * would silently stop other APIs' logs.
 */
export class ApiGatewayLoggingRole extends Construct {
  readonly account: CfnAccount;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
      managedPolicies: [
        ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      ],
    });
    role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "The policy API Gateway documents for its account-wide logging role; it is the region's " +
        "role for every API's logs, whose groups Herald cannot name",
    });
    this.account = new CfnAccount(this, 'Account', { cloudWatchRoleArn: role.roleArn });
  }
}
